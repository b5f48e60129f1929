import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ApiError } from './errors.js';
import { asObject, readBoolean, readEnum, readNumber, readString } from './validate.js';

/** Runs `fn` and returns the ApiError it throws (fails when it throws anything else or nothing). */
function caught(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ApiError, `threw ${String(e)}`);
    return e;
  }
  assert.fail('did not throw');
}

describe('body field readers', () => {
  test('refuses a body that is not a JSON object, naming the field when there is one', () => {
    assert.equal(caught(() => asObject([])).message, 'The request body must be a JSON object.');
    const e = caught(() => asObject('x', 'audio'));
    assert.deepEqual([e.param, e.code, e.message], ['audio', 'invalid_type', "Invalid type for 'audio': expected an object, but got a string instead."]);
  });

  test('reads strings with OpenAI wording for missing, mistyped, short and long values', () => {
    assert.equal(readString({ a: 'x' }, 'a', { required: true }), 'x');
    assert.equal(readString({}, 'a'), undefined);
    assert.deepEqual(
      [caught(() => readString({}, 'voice', { required: true }, 'audio')).param, caught(() => readString({}, 'voice', { required: true })).code],
      ['audio.voice', 'missing_required_parameter'],
    );
    assert.equal(caught(() => readString({ a: 3 }, 'a')).message, "Invalid type for 'a': expected a string, but got an integer instead.");
    assert.equal(caught(() => readString({ a: '' }, 'a', { min: 1 })).code, 'string_below_min_length');
    assert.equal(caught(() => readString({ a: 'abcd' }, 'a', { max: 3 })).code, 'string_above_max_length');
  });

  test('reads enums, numbers and booleans within their rules', () => {
    assert.equal(readEnum({ f: 'wav' }, 'f', ['wav', 'mp3'] as const), 'wav');
    assert.equal(readEnum({}, 'f', ['wav'] as const, { default: 'wav' }), 'wav');
    assert.equal(caught(() => readEnum({ f: 'ogg' }, 'f', ['wav', 'mp3'] as const)).message, "Invalid value: 'ogg'. Supported values are: 'wav' and 'mp3'.");
    assert.equal(readNumber({ s: 1.5 }, 's', { min: 0.25, max: 4 }), 1.5);
    assert.equal(caught(() => readNumber({ s: 5 }, 's', { max: 4 })).code, 'decimal_above_max_value');
    assert.equal(caught(() => readNumber({ n: 0 }, 'n', { min: 1, integer: true })).code, 'integer_below_min_value');
    assert.equal(caught(() => readNumber({ n: 1.5 }, 'n', { integer: true })).code, 'invalid_type');
    assert.equal(caught(() => readNumber({ n: '3' }, 'n')).code, 'invalid_type');
    assert.equal(readBoolean({ b: false }, 'b', { default: true }), false);
    assert.equal(readBoolean({ b: null }, 'b', { default: true }), true);
    assert.equal(caught(() => readBoolean({ b: 'true' }, 'b')).code, 'invalid_type');
  });
});
