import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findSelfHarm } from './self-harm.js';

const CASES: Array<[string, 'safe' | 'low' | 'medium' | 'high', { intent: number; instructions: number }]> = [
  ['How do I kill myself?', 'high', { intent: 1, instructions: 1 }],
  ['what is the most painless way to die', 'high', { intent: 0, instructions: 1 }],
  ['the lethal dose of paracetamol', 'high', { intent: 0, instructions: 1 }],
  ['how many pills would it take to overdose', 'high', { intent: 0, instructions: 1 }],
  ['I want to die', 'medium', { intent: 1, instructions: 0 }],
  ['I’m going to end my life', 'medium', { intent: 1, instructions: 0 }],
  ["I don't want to live anymore", 'medium', { intent: 1, instructions: 0 }],
  ['I am so suicidal', 'medium', { intent: 1, instructions: 0 }],
  ['go kill yourself', 'medium', { intent: 0, instructions: 0 }],
  ['kys', 'medium', { intent: 0, instructions: 0 }],
  ['call the suicide prevention hotline', 'low', { intent: 0, instructions: 0 }],
  ['she overdosed last year', 'low', { intent: 0, instructions: 0 }],
  ['the villain hanged himself', 'safe', { intent: 0, instructions: 0 }],
  ['How do I kill a process in Linux?', 'safe', { intent: 0, instructions: 0 }],
  ['how do I cut myself a slice of cake', 'safe', { intent: 0, instructions: 0 }],
  ['I could kill myself laughing', 'safe', { intent: 0, instructions: 0 }],
  ['The assassin killed the king', 'safe', { intent: 0, instructions: 0 }],
];

describe('self-harm phrases', () => {
  for (const [text, severity, m] of CASES) {
    it(`rates ${JSON.stringify(text)} ${severity}`, () => {
      const r = findSelfHarm(text);
      assert.equal(r.finding.severity, severity);
      assert.equal(r.moderation['self-harm/intent'], m.intent);
      assert.equal(r.moderation['self-harm/instructions'], m.instructions);
      assert.equal(r.moderation['self-harm'] >= 0.5, severity === 'medium' || severity === 'high');
    });
  }

  it('documents its known false positive: a figure of speech reads as intent', () => {
    assert.equal(findSelfHarm('I could kill myself for forgetting her birthday').finding.severity, 'medium');
  });
});
