import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { boundGrammarNumbers } from './engine.js';
import { ANY_JSON_SCHEMA, toGrammarSchema } from './json-schema.js';

describe('JSON Schema to grammar schema', () => {
  it('keeps the listed properties and forbids extra keys', () => {
    assert.deepEqual(
      toGrammarSchema({ type: 'object', properties: { a: { type: 'string', maxLength: 3, pattern: '^x' } }, required: ['a'], additionalProperties: true }),
      { type: 'object', properties: { a: { type: 'string', maxLength: 3 } }, additionalProperties: false },
    );
  });

  it('turns an object without properties into a map of any values', () => {
    assert.deepEqual(toGrammarSchema({ type: 'object' }), { type: 'object', additionalProperties: true });
    assert.deepEqual(toGrammarSchema({ type: 'object', additionalProperties: { type: 'integer' } }), {
      type: 'object',
      additionalProperties: { type: 'integer' },
    });
  });

  it('turns an empty schema, true and unknown shapes into any JSON value (not null)', () => {
    assert.deepEqual(toGrammarSchema({}), ANY_JSON_SCHEMA);
    assert.deepEqual(toGrammarSchema(true), ANY_JSON_SCHEMA);
    assert.deepEqual(toGrammarSchema({ description: 'anything' }), { ...ANY_JSON_SCHEMA, description: 'anything' });
  });

  it('turns anyOf and oneOf into alternatives and nullable into an added null', () => {
    assert.deepEqual(toGrammarSchema({ anyOf: [{ type: 'string' }, { type: 'null' }] }), { oneOf: [{ type: 'string' }, { type: 'null' }] });
    assert.deepEqual(toGrammarSchema({ type: 'integer', nullable: true }), { oneOf: [{ type: 'integer' }, { type: 'null' }] });
  });

  it('splits a list of types into alternatives when it mixes containers and primitives', () => {
    assert.deepEqual(toGrammarSchema({ type: ['integer', 'null'] }), { type: ['integer', 'null'] });
    assert.deepEqual(toGrammarSchema({ type: ['array', 'null'], items: { type: 'boolean' } }), {
      oneOf: [{ type: ['null'] }, { type: 'array', items: { type: 'boolean' } }],
    });
  });

  it('keeps enums, consts, string formats and array bounds', () => {
    assert.deepEqual(toGrammarSchema({ enum: ['a', 1, null] }), { enum: ['a', 1, null] });
    assert.deepEqual(toGrammarSchema({ const: 'x' }), { const: 'x' });
    assert.deepEqual(toGrammarSchema({ type: 'string', format: 'date' }), { type: 'string', format: 'date' });
    assert.deepEqual(toGrammarSchema({ type: 'array', items: { type: 'number' }, minItems: 1, maxItems: 2 }), {
      type: 'array',
      items: { type: 'number' },
      minItems: 1,
      maxItems: 2,
    });
  });

  it('resolves $defs and definitions references through a root $defs', () => {
    const out = toGrammarSchema({
      type: 'object',
      properties: { a: { $ref: '#/$defs/A' }, b: { $ref: '#/definitions/B' }, c: { $ref: '#' } },
      $defs: { A: { type: 'string' } },
      definitions: { B: { type: 'integer' } },
    });
    assert.deepEqual(out, {
      oneOf: [{ type: 'object', properties: { a: { $ref: '#/$defs/A' }, b: { $ref: '#/$defs/B' }, c: ANY_JSON_SCHEMA }, additionalProperties: false }],
      $defs: { A: { type: 'string' }, B: { type: 'integer' } },
    });
  });

  it('merges allOf object parts', () => {
    assert.deepEqual(toGrammarSchema({ allOf: [{ type: 'object', properties: { a: { type: 'string' } } }, { properties: { b: { type: 'boolean' } } }] }), {
      type: 'object',
      properties: { a: { type: 'string' }, b: { type: 'boolean' } },
      additionalProperties: false,
    });
  });
});

describe('grammar number bounds', () => {
  it('removes exponents from integers and bounds them for other numbers', () => {
    const grammar = [
      'root ::= integer-number-rule',
      'integer-number-rule ::= "-"? ("0" | [1-9] [0-9]{0,15}) ([eE] [-+]? ("0" | [1-9] [0-9]{0,15}))?',
      'fractional-number-rule ::= "-"? ("0" | [1-9] [0-9]{0,15}) ("." [0-9]{1,16})? ([eE] [-+]? ("0" | [1-9] [0-9]{0,15}))?',
      'number ::= ("-"? ([0-9] | [1-9] [0-9]{0,15})) ("." [0-9]+)? ([eE] [-+]? [0-9] [1-9]{0,15})? ws',
    ].join('\n');
    assert.deepEqual(boundGrammarNumbers(grammar).split('\n'), [
      'root ::= integer-number-rule',
      'integer-number-rule ::= "-"? ("0" | [1-9] [0-9]{0,15})',
      'fractional-number-rule ::= "-"? ("0" | [1-9] [0-9]{0,15}) ("." [0-9]{1,16})? ([eE] [-+]? [0-9]{1,2})?',
      'number ::= ("-"? ([0-9] | [1-9] [0-9]{0,15})) ("." [0-9]+)? ([eE] [-+]? [0-9]{1,2})? ws',
    ]);
  });
});
