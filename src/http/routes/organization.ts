import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Services } from '../../runtime/services.js';
import { apiKeyIdOf, USAGE_KINDS, type UsageGroup, type UsageKind, type UsageTotals } from '../../store/usage.js';
import { assertAdmin } from '../admin.js';
import { ApiError } from '../errors.js';
import { listParam, readWindow, type UsageWindow, usagePage } from '../usage-page.js';

type GroupField = 'project_id' | 'user_id' | 'api_key_id' | 'model' | 'batch' | 'line_item';

function readGroupBy(query: Record<string, unknown>, allowed: readonly GroupField[]): Set<GroupField> {
  const fields = listParam(query, 'group_by') ?? [];
  for (const f of fields) if (!allowed.includes(f as GroupField)) throw ApiError.invalidValue('group_by', f, [...allowed]);
  return new Set(fields as GroupField[]);
}

function readBatch(query: Record<string, unknown>): boolean | undefined {
  const raw = query.batch;
  if (raw === undefined) return undefined;
  if (raw === 'true' || raw === true) return true;
  if (raw === 'false' || raw === false) return false;
  throw ApiError.invalidRequest('batch', `Invalid 'batch': expected true or false, got '${String(raw)}'.`, 'invalid_value');
}

const GROUPS = {
  completions: ['project_id', 'user_id', 'api_key_id', 'model', 'batch'],
  audio_speeches: ['project_id', 'user_id', 'api_key_id', 'model'],
  audio_transcriptions: ['project_id', 'user_id', 'api_key_id', 'model'],
  moderations: ['project_id', 'user_id', 'api_key_id', 'model'],
} as const satisfies Record<UsageKind, readonly GroupField[]>;

/** What each family reports of a group's totals (OpenAI's result objects). */
const RESULTS: Record<UsageKind, (t: UsageTotals) => object> = {
  completions: (t) => ({
    object: 'organization.usage.completions.result',
    input_tokens: t.promptTextTokens + t.promptAudioTokens,
    output_tokens: t.completionTextTokens + t.completionAudioTokens,
    input_cached_tokens: t.cachedTokens,
    input_audio_tokens: t.promptAudioTokens,
    output_audio_tokens: t.completionAudioTokens,
    num_model_requests: t.requests,
  }),
  audio_speeches: (t) => ({ object: 'organization.usage.audio_speeches.result', characters: t.characters, num_model_requests: t.requests }),
  audio_transcriptions: (t) => ({
    object: 'organization.usage.audio_transcriptions.result',
    seconds: Math.round(t.audioInSec),
    num_model_requests: t.requests,
  }),
  moderations: (t) => ({ object: 'organization.usage.moderations.result', input_tokens: t.promptTextTokens, num_model_requests: t.requests }),
};

function now(): number {
  return Math.floor(Date.now() / 1000);
}

/** The ledger query of one request: window, groups and filters. */
function ledgerQuery(query: Record<string, unknown>, w: UsageWindow, groups: Set<GroupField>, kinds: UsageKind[] | undefined) {
  return {
    start: w.pageStart,
    end: Math.min(w.end, w.pageStart + w.limit * w.widthSec),
    widthSec: w.widthSec,
    kinds,
    groupBy: { owner: groups.has('api_key_id'), model: groups.has('model'), batch: groups.has('batch'), kind: groups.has('line_item') },
    apiKeyIds: listParam(query, 'api_key_ids'),
    models: listParam(query, 'models'),
    batch: readBatch(query),
  };
}

/** The group-by fields of a result: null unless grouped (OpenAI's rule). */
function groupFields(g: UsageGroup, groups: Set<GroupField>, batchField: boolean) {
  return {
    project_id: null,
    user_id: null,
    api_key_id: groups.has('api_key_id') ? apiKeyIdOf(g.owner ?? null) : null,
    model: groups.has('model') ? (g.model ?? null) : null,
    ...(batchField ? { batch: groups.has('batch') ? (g.batch ?? false) : null } : {}),
  };
}

/**
 * OpenAI's organization usage and costs (admin only): `/v1/organization/usage/{completions,
 * audio_speeches, audio_transcriptions, moderations}` and `/v1/organization/costs`, from the
 * usage ledger. Costs carry Parley's own cost (engine core-seconds × `usage.coreHourUsd`) as
 * `amount`, and what OpenAI would have charged at list price as the extension `openai_list_amount`.
 */
export function organizationRoutes(app: FastifyInstance, services: Services): void {
  const read = (request: FastifyRequest) => {
    assertAdmin(request, services.config);
    return request.query as Record<string, unknown>;
  };
  for (const kind of Object.keys(USAGE_KINDS) as UsageKind[]) {
    app.get(`/v1/organization/usage/${kind}`, async (request) => {
      const query = read(request);
      const w = readWindow(query, now());
      const groups = readGroupBy(query, GROUPS[kind]);
      const found = services.usage.buckets(ledgerQuery(query, w, groups, [kind]));
      return usagePage(w, found, (g) => ({ ...RESULTS[kind](g.totals), ...groupFields(g, groups, kind === 'completions') }));
    });
  }
  app.get('/v1/organization/costs', async (request) => {
    const query = read(request);
    const w = readWindow(query, now());
    const groups = readGroupBy(query, ['project_id', 'line_item', 'api_key_id']);
    const found = services.usage.buckets(ledgerQuery(query, w, groups, Object.keys(USAGE_KINDS) as UsageKind[]));
    return usagePage(w, found, (g) => ({
      object: 'organization.costs.result',
      amount: { value: g.totals.parleyCostUsd, currency: 'usd' },
      openai_list_amount: { value: g.totals.openaiCostUsd, currency: 'usd' },
      line_item: groups.has('line_item') ? (g.kind ?? null) : null,
      project_id: null,
      api_key_id: groups.has('api_key_id') ? apiKeyIdOf(g.owner ?? null) : null,
    }));
  });
}
