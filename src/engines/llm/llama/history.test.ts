import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toChatHistory } from './history.js';

describe('messages to node-llama-cpp chat history', () => {
  it('maps system, user and assistant messages to their items', () => {
    const h = toChatHistory([
      { role: 'system', content: 'S' },
      { role: 'user', content: 'U' },
      { role: 'assistant', content: 'A' },
      { role: 'user', content: 'U2' },
    ]);
    assert.deepEqual(h.items, [
      { type: 'system', text: 'S' },
      { type: 'user', text: 'U' },
      { type: 'model', response: ['A'] },
      { type: 'user', text: 'U2' },
    ]);
    assert.equal(h.endsWithModel, false);
  });

  it('puts tool results into the calls of the assistant turn and continues that turn', () => {
    const h = toChatHistory([
      { role: 'user', content: 'Weather?' },
      {
        role: 'assistant',
        content: '',
        toolCalls: [
          { id: 'c1', name: 'w', arguments: '{"city":"Oslo"}' },
          { id: 'c2', name: 't', arguments: 'not json' },
        ],
      },
      { role: 'tool', toolCallId: 'c2', content: '12:00' },
      { role: 'tool', toolCallId: 'c1', content: '{"t":3}' },
    ]);
    assert.deepEqual(h.items[1], {
      type: 'model',
      response: [
        { type: 'functionCall', name: 'w', params: { city: 'Oslo' }, result: { t: 3 } },
        { type: 'functionCall', name: 't', params: {}, result: '12:00' },
      ],
    });
    assert.equal(h.endsWithModel, true);
  });

  it("appends the assistant's answer after tool results to the same turn", () => {
    const h = toChatHistory([
      { role: 'user', content: 'Weather?' },
      { role: 'assistant', content: '', toolCalls: [{ id: 'c1', name: 'w', arguments: '{}' }] },
      { role: 'tool', toolCallId: 'c1', content: 'sunny' },
      { role: 'assistant', content: 'It is sunny.' },
      { role: 'user', content: 'Thanks' },
    ]);
    assert.equal(h.items.length, 3);
    assert.deepEqual(h.items[1], { type: 'model', response: [{ type: 'functionCall', name: 'w', params: {}, result: 'sunny' }, 'It is sunny.'] });
    assert.equal(h.endsWithModel, false);
  });

  it('keeps a tool result without a matching call as a user turn', () => {
    const h = toChatHistory([{ role: 'tool', toolCallId: 'x', content: '42' }]);
    assert.deepEqual(h.items, [{ type: 'user', text: 'Tool result (x): 42' }]);
  });
});
