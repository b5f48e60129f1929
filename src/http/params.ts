import { ApiError } from './errors.js';
import { asObject } from './validate.js';

/**
 * Readers shared by several routes for query parameters and common body fields. Each throws an
 * ApiError in OpenAI's wording with `param` set.
 */

/** A positive integer query parameter `limit` within [1, max]; `fallback` when absent. */
export function limitParam(query: Record<string, unknown>, fallback: number, max: number): number {
  const raw = query.limit;
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > max) {
    throw ApiError.invalidRequest('limit', `Invalid 'limit': expected an integer from 1 to ${max}, but got '${String(raw)}'.`, 'invalid_value');
  }
  return n;
}

/** A unix-seconds query parameter; undefined when absent. */
export function unixParam(query: Record<string, unknown>, name: string): number | undefined {
  const raw = query[name];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw ApiError.invalidRequest(name, `Invalid '${name}': expected unix seconds, got '${String(raw)}'.`, 'invalid_value');
  return n;
}

/** OpenAI's `metadata`: at most 16 pairs, keys up to 64 characters, string values up to 512; undefined when absent. */
export function readMetadata(value: unknown): Record<string, string> | undefined {
  if (value === undefined || value === null) return undefined;
  const entries = Object.entries(asObject(value, 'metadata'));
  if (entries.length > 16) {
    throw ApiError.invalidRequest(
      'metadata',
      `Invalid 'metadata': too many properties. Expected an object with at most 16 properties, but got ${entries.length} instead.`,
      'object_above_max_properties',
    );
  }
  const out: Record<string, string> = {};
  for (const [k, v] of entries) {
    if (k.length > 64) {
      throw ApiError.invalidRequest(
        `metadata.${k}`,
        `Invalid 'metadata': keys can be at most 64 characters long, but '${k.slice(0, 16)}…' has ${k.length}.`,
        'invalid_value',
      );
    }
    if (typeof v !== 'string') throw ApiError.invalidRequest(`metadata.${k}`, `Invalid type for 'metadata.${k}': expected a string.`, 'invalid_type');
    if (v.length > 512) {
      throw ApiError.invalidRequest(
        `metadata.${k}`,
        `Invalid 'metadata.${k}': string too long. Expected a string with maximum length 512, but got a string with length ${v.length} instead.`,
        'string_above_max_length',
      );
    }
    out[k] = v;
  }
  return out;
}

/**
 * A voice field (`voice` of speech, `audio.voice` of chat): a preset name, or — only for voices an
 * operator registered in config (`tts.customVoices`) — a custom voice object `{id}`. Voice
 * guardrail: no other custom voice is accepted, and no route takes reference audio to clone a voice.
 */
export function readVoice(value: unknown, param: string, customVoices: Readonly<Record<string, unknown>>): string {
  if (value === undefined || value === null) throw ApiError.missingParameter(param);
  if (typeof value === 'object' && !Array.isArray(value)) {
    const id = (value as { id?: unknown }).id;
    if (typeof id !== 'string' || id.length === 0) throw ApiError.missingParameter(`${param}.id`);
    if (!Object.hasOwn(customVoices, id)) {
      throw ApiError.invalidRequest(
        param,
        `Custom voice '${id}' is not available: this server speaks only its preset voices and the custom voices its operator registered.`,
        'invalid_value',
      );
    }
    return id;
  }
  if (typeof value !== 'string')
    throw ApiError.invalidRequest(param, `Invalid type for '${param}': expected a string or an object with an id.`, 'invalid_type');
  return value;
}
