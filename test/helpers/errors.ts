import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { assertMatchesSchema } from './openapi.js';

/**
 * Awaits `promise`, which must fail with an OpenAI-shaped error: the SDK's APIError with this
 * status, a body matching OpenAI's ErrorResponse schema (all four keys), this `code`, and — when
 * given — this `param`. Returns the error for further checks.
 */
export async function expectApiError(
  promise: Promise<unknown>,
  status: number,
  code: string | null,
  param?: string | null,
): Promise<InstanceType<typeof OpenAI.APIError>> {
  try {
    await promise;
  } catch (e) {
    assert.ok(e instanceof OpenAI.APIError, String(e));
    assert.equal(e.status, status, e.message);
    const body = e.error as Record<string, unknown>;
    assert.deepEqual(Object.keys(body).sort(), ['code', 'message', 'param', 'type']);
    assertMatchesSchema('ErrorResponse', { error: body });
    assert.equal(body.code, code, e.message);
    if (param !== undefined) assert.equal(body.param, param);
    return e;
  }
  assert.fail('expected the request to fail');
}
