import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isApiError } from '../../errors.js';
import { createLlmEngine, isLlmEngineId, LLM_ENGINE_IDS, loadLlmEngineDescriptor } from './registry.js';

describe('LLM engine registry', () => {
  it('knows the llama and openai-compatible engines', async () => {
    assert.deepEqual([...LLM_ENGINE_IDS], ['llama', 'openai-compatible']);
    for (const id of LLM_ENGINE_IDS) assert.equal((await loadLlmEngineDescriptor(id)).id, id);
    assert.equal(isLlmEngineId('llama'), true);
    assert.equal(isLlmEngineId('gpt'), false);
  });

  it('rejects an unknown engine id with invalid_value on llm.engine', async () => {
    await assert.rejects(
      createLlmEngine('gpt', { modelsDir: '', threads: 1 }),
      (e: unknown) => isApiError(e) && e.code === 'invalid_value' && e.param === 'llm.engine',
    );
  });

  it('creates an openai-compatible engine without contacting the upstream when the model is set', async () => {
    const engine = await createLlmEngine('openai-compatible', { model: 'm', url: 'http://127.0.0.1:9/v1', modelsDir: '', threads: 1 });
    assert.equal(engine.id, 'openai-compatible');
    assert.equal(engine.model, 'm');
    await engine.dispose();
  });
});
