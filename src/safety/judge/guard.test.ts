import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { guardFamilyOf, guardGrammar, mapGuardVerdict, parseGuardAnswer, parseLlamaGuard, parseQwen3Guard } from './guard.js';

describe('guard answers', () => {
  it('reads Llama Guard answers, tolerating whitespace and case', () => {
    assert.deepEqual(parseLlamaGuard('safe'), { safety: 'safe', categories: [] });
    assert.deepEqual(parseLlamaGuard('\n\nsafe'), { safety: 'safe', categories: [] });
    assert.deepEqual(parseLlamaGuard('unsafe\nS1,S10'), { safety: 'unsafe', categories: ['S1', 'S10'] });
    assert.deepEqual(parseLlamaGuard(' Unsafe \n s11 , S11'), { safety: 'unsafe', categories: ['S11'] });
    assert.equal(parseLlamaGuard('I cannot help with that.'), undefined);
    assert.equal(parseLlamaGuard(''), undefined);
  });

  it('reads Qwen3Guard answers, ignoring a Refusal line and unknown categories', () => {
    assert.deepEqual(parseQwen3Guard('Safety: Safe\nCategories: None'), { safety: 'safe', categories: [] });
    assert.deepEqual(parseQwen3Guard('Safety: Unsafe\nCategories: Violent, Jailbreak\nRefusal: No'), {
      safety: 'unsafe',
      categories: ['Violent', 'Jailbreak'],
    });
    assert.deepEqual(parseQwen3Guard('Safety: Controversial\nCategories: sexual content or sexual acts, Made Up'), {
      safety: 'controversial',
      categories: ['Sexual Content or Sexual Acts'],
    });
    assert.equal(parseQwen3Guard('Categories: Violent'), undefined);
  });

  it("picks the family from the model's name", () => {
    assert.equal(guardFamilyOf('Qwen3Guard-Gen-0.6B-Q8_0.gguf'), 'qwen3-guard');
    assert.equal(guardFamilyOf('qwen3-guard-gen-0.6b'), 'qwen3-guard');
    assert.equal(guardFamilyOf('Llama-Guard-3-1B.Q4_K_M.gguf'), 'llama-guard');
    assert.equal(guardFamilyOf('something-else.gguf'), 'llama-guard');
  });

  it('maps Llama Guard categories to harms and moderation categories, all checked when safe', () => {
    const safe = mapGuardVerdict('llama-guard', { safety: 'safe', categories: [] });
    assert.deepEqual(Object.keys(safe.harms).sort(), ['hate', 'selfHarm', 'sexual', 'violence']);
    assert.ok(Object.values(safe.harms).every((h) => h.severity === 'safe'));
    assert.deepEqual(Object.keys(safe.moderation).sort(), ['hate', 'illicit', 'illicit/violent', 'self-harm', 'sexual', 'sexual/minors', 'violence']);
    assert.equal(safe.jailbreak, undefined);

    const unsafe = mapGuardVerdict('llama-guard', { safety: 'unsafe', categories: ['S4', 'S7'] });
    assert.deepEqual(unsafe.harms.sexual, { severity: 'high', score: 1 });
    assert.equal(unsafe.harms.violence?.severity, 'safe');
    assert.equal(unsafe.moderation['sexual/minors'], 1);
    assert.equal(unsafe.moderation.illicit, 0);
    assert.deepEqual(unsafe.unmapped, ['S7']);
  });

  it("maps Qwen3Guard's controversial to medium and its Jailbreak to Azure's jailbreak check", () => {
    const r = mapGuardVerdict('qwen3-guard', { safety: 'controversial', categories: ['Unethical Acts', 'Jailbreak'] });
    assert.deepEqual(r.harms.hate, { severity: 'medium', score: 0.5 });
    assert.equal(r.moderation.harassment, 0.5);
    assert.deepEqual(r.jailbreak, { detected: true });
    assert.deepEqual(mapGuardVerdict('qwen3-guard', { safety: 'safe', categories: [] }).jailbreak, { detected: false });
  });

  it('writes grammars that name only the formats the parsers read', () => {
    assert.match(guardGrammar('llama-guard'), /^root ::= "safe" \| "unsafe\\n" cat/);
    const qwen = guardGrammar('qwen3-guard');
    for (const name of ['Violent', 'Non-violent Illegal Acts', 'Suicide & Self-Harm', 'Jailbreak', 'None'])
      assert.ok(qwen.includes(JSON.stringify(name)), name);
    assert.equal(parseGuardAnswer('qwen3-guard', 'Safety: Unsafe\nCategories: Suicide & Self-Harm')?.categories[0], 'Suicide & Self-Harm');
  });
});
