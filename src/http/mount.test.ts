import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FastifyRequest } from 'fastify';
import { apiVersion, compareApiVersions } from './mount.js';

const withQuery = (query: Record<string, unknown>) => ({ query }) as unknown as FastifyRequest;

test('orders Azure api-versions by date, a GA version after the preview of the same day', () => {
  assert.equal(compareApiVersions('2024-10-21', '2025-01-01-preview'), -1);
  assert.equal(compareApiVersions('2025-01-01', '2025-01-01-preview'), 1);
  assert.equal(compareApiVersions('2025-01-01-preview', '2025-01-01-preview'), 0);
  assert.equal(compareApiVersions('2025-04-01-preview', '2025-01-01-preview'), 1);
  assert.ok(Number.isNaN(compareApiVersions('latest', '2025-01-01-preview')));
});

test('requires a well-formed api-version query parameter', () => {
  assert.equal(apiVersion(withQuery({ 'api-version': '2025-01-01-preview' })), '2025-01-01-preview');
  assert.throws(() => apiVersion(withQuery({})), { param: 'api-version', code: 'missing_required_parameter' });
  assert.throws(() => apiVersion(withQuery({ 'api-version': 'v1' })), { param: 'api-version', code: 'invalid_value' });
});
