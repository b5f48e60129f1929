import { ApiError } from './errors.js';

/**
 * Small field readers for request bodies. Each throws an ApiError in OpenAI's wording, with
 * `param` set to the field's path. They read from an unknown body so nothing trusts the client.
 */

export type Body = Record<string, unknown>;

/** Checks that the body is a JSON object. */
export function asObject(value: unknown, param: string | null = null): Body {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw ApiError.invalidRequest(
      param,
      param ? `Invalid type for '${param}': expected an object, but got ${describe(value)} instead.` : 'The request body must be a JSON object.',
      'invalid_type',
    );
  }
  return value as Body;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return 'a string';
  if (typeof value === 'number') return Number.isInteger(value) ? 'an integer' : 'a decimal';
  if (typeof value === 'boolean') return 'a boolean';
  return `an ${typeof value}`;
}

function join(prefix: string, key: string): string {
  return prefix ? `${prefix}.${key}` : key;
}

export interface StringRule {
  required?: boolean;
  min?: number;
  max?: number;
}

/** A string field; undefined when absent and not required. */
export function readString(body: Body, key: string, rule: StringRule & { required: true }, prefix?: string): string;
export function readString(body: Body, key: string, rule?: StringRule, prefix?: string): string | undefined;
export function readString(body: Body, key: string, rule: StringRule = {}, prefix = ''): string | undefined {
  const param = join(prefix, key);
  const value = body[key];
  if (value === undefined || value === null) {
    if (rule.required) throw ApiError.missingParameter(param);
    return undefined;
  }
  if (typeof value !== 'string') {
    throw ApiError.invalidRequest(param, `Invalid type for '${param}': expected a string, but got ${describe(value)} instead.`, 'invalid_type');
  }
  if (rule.min !== undefined && value.length < rule.min) {
    const got = value.length === 0 ? 'an empty string' : `a string with length ${value.length}`;
    throw ApiError.invalidRequest(
      param,
      `Invalid '${param}': string too short. Expected a string with minimum length ${rule.min}, but got ${got} instead.`,
      'string_below_min_length',
    );
  }
  if (rule.max !== undefined && value.length > rule.max) {
    throw ApiError.invalidRequest(
      param,
      `Invalid '${param}': string too long. Expected a string with maximum length ${rule.max}, but got a string with length ${value.length} instead.`,
      'string_above_max_length',
    );
  }
  return value;
}

/** A string field limited to a set of values (`invalid_value` otherwise). */
export function readEnum<T extends string>(
  body: Body,
  key: string,
  values: readonly T[],
  options: { required?: boolean; default?: T } = {},
  prefix = '',
): T | undefined {
  const param = join(prefix, key);
  const value = body[key];
  if (value === undefined || value === null) {
    if (options.required) throw ApiError.missingParameter(param);
    return options.default;
  }
  if (typeof value !== 'string' || !values.includes(value as T)) throw ApiError.invalidValue(param, value, values);
  return value as T;
}

/** A number field within [min, max]. */
export function readNumber(
  body: Body,
  key: string,
  options: { min?: number; max?: number; integer?: boolean; default?: number } = {},
  prefix = '',
): number | undefined {
  const param = join(prefix, key);
  const value = body[key];
  if (value === undefined || value === null) return options.default;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw ApiError.invalidRequest(param, `Invalid type for '${param}': expected a number, but got ${describe(value)} instead.`, 'invalid_type');
  }
  const kind = options.integer ? 'integer' : 'decimal';
  if (options.integer && !Number.isInteger(value)) {
    throw ApiError.invalidRequest(param, `Invalid type for '${param}': expected an integer, but got a decimal instead.`, 'invalid_type');
  }
  if (options.min !== undefined && value < options.min) {
    throw ApiError.invalidRequest(
      param,
      `Invalid '${param}': ${kind} below minimum value. Expected a value >= ${options.min}, but got ${value} instead.`,
      `${kind}_below_min_value`,
    );
  }
  if (options.max !== undefined && value > options.max) {
    throw ApiError.invalidRequest(
      param,
      `Invalid '${param}': ${kind} above maximum value. Expected a value <= ${options.max}, but got ${value} instead.`,
      `${kind}_above_max_value`,
    );
  }
  return value;
}

/** A boolean field. */
export function readBoolean(body: Body, key: string, options: { default?: boolean } = {}, prefix = ''): boolean | undefined {
  const param = join(prefix, key);
  const value = body[key];
  if (value === undefined || value === null) return options.default;
  if (typeof value !== 'boolean') {
    throw ApiError.invalidRequest(param, `Invalid type for '${param}': expected a boolean, but got ${describe(value)} instead.`, 'invalid_type');
  }
  return value;
}
