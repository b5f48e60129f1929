import type { BudgetState, KeyCreateParams, KeyStatus } from '../keys/registry.js';
import { formatDurationSec, parseDurationSec } from '../lib/duration.js';
import type { KeyRecord } from '../store/keys.js';
import { ApiError } from './errors.js';
import { readMetadata } from './params.js';
import { asObject, readNumber, readString } from './validate.js';

/** Longest key life or budget period accepted: ten years. */
const MAX_DURATION_SEC = 10 * 365 * 86_400;

function readDuration(body: Record<string, unknown>, key: string): number | undefined {
  const value = readString(body, key);
  if (value === undefined) return undefined;
  const sec = parseDurationSec(value);
  if (sec === undefined || sec < 1 || sec > MAX_DURATION_SEC) {
    throw ApiError.invalidRequest(key, `Invalid '${key}': expected a duration such as '30d', '12h', '15m' or '30s', but got '${value}'.`, 'invalid_value');
  }
  return sec;
}

/**
 * A key to create, from a `POST /v1/parley/keys` body (LiteLLM's `/key/generate` names): `alias`,
 * `duration` (how long the key lives), `models`, `max_budget_usd` (also `max_budget`),
 * `budget_duration`, `rpm_limit`, `tpm_limit`, `max_parallel_requests`, `metadata`. `parley keys
 * create` builds the same body from its flags, so both are checked here alike.
 */
export function readKeyCreateParams(raw: unknown): KeyCreateParams {
  const body = asObject(raw ?? {});
  const alias = readString(body, 'alias', { min: 1, max: 64 });
  let models: string[] | undefined;
  if (body.models !== undefined && body.models !== null) {
    if (!Array.isArray(body.models) || body.models.some((m) => typeof m !== 'string' || m.length === 0)) {
      throw ApiError.invalidRequest('models', "Invalid 'models': expected an array of model names.", 'invalid_type');
    }
    models = body.models as string[];
  }
  const budgetKey = body.max_budget_usd === undefined && body.max_budget !== undefined ? 'max_budget' : 'max_budget_usd';
  const params: KeyCreateParams = {
    alias,
    durationSec: readDuration(body, 'duration'),
    models,
    maxBudgetUsd: readNumber(body, budgetKey, { min: 0 }),
    budgetDurationSec: readDuration(body, 'budget_duration'),
    rpmLimit: readNumber(body, 'rpm_limit', { min: 0, integer: true }),
    tpmLimit: readNumber(body, 'tpm_limit', { min: 0, integer: true }),
    maxParallelRequests: readNumber(body, 'max_parallel_requests', { min: 0, integer: true }),
    metadata: readMetadata(body.metadata),
  };
  if (params.budgetDurationSec !== undefined && params.maxBudgetUsd === undefined) {
    throw ApiError.invalidRequest('budget_duration', "'budget_duration' needs 'max_budget_usd'.", 'missing_required_parameter');
  }
  return params;
}

/** A key on the wire (`parley.api_key`); `key` only in the answer that creates it. */
export function wireKey(record: KeyRecord, status: KeyStatus, extra: { key?: string; budget?: BudgetState } = {}) {
  return {
    object: 'parley.api_key' as const,
    id: record.id,
    ...(extra.key !== undefined ? { key: extra.key } : {}),
    alias: record.alias,
    status,
    created_at: record.createdAt,
    expires_at: record.expiresAt,
    revoked_at: record.revokedAt,
    models: record.models,
    max_budget_usd: record.maxBudgetUsd,
    budget_duration: record.budgetDurationSec === null ? null : formatDurationSec(record.budgetDurationSec),
    rpm_limit: record.rpmLimit,
    tpm_limit: record.tpmLimit,
    max_parallel_requests: record.maxParallelRequests,
    metadata: record.metadata,
    ...(extra.budget ? { spend_usd: extra.budget.spendUsd, budget_period_start: extra.budget.periodStart, budget_reset_at: extra.budget.resetAt } : {}),
  };
}
