import type { FastifyRequest } from 'fastify';
import { ApiError } from './errors.js';

/** Where a model-backed route family is mounted: OpenAI's `/v1`, or Azure's deployment prefix. */
export interface RouteOptions {
  /** Path prefix; default `/v1`. */
  prefix?: string;
  /** Azure: the model the deployment in the path stands for (the body's `model` is then ignored). */
  modelFor?: (request: FastifyRequest) => string;
  /** Azure flavour of the responses (content-filter annotations, Azure's error forms). */
  azure?: boolean;
}

/** Where a resource family (files, batches) is mounted: OpenAI's `/v1`, or Azure's `/openai`. */
export interface ResourceRouteOptions {
  /** `/v1` (default) or `/openai`. */
  prefix?: string;
  /** Azure flavour: `api-version` is required on every call. */
  azure?: boolean;
}

/** The first Azure OpenAI API version with audio in chat completions. */
export const AZURE_AUDIO_API_VERSION = '2025-01-01-preview';

/** Orders Azure api-versions: by date, and a GA version after the preview of the same date; NaN for a malformed one. */
export function compareApiVersions(a: string, b: string): number {
  const key = (v: string) => {
    const m = /^(\d{4}-\d{2}-\d{2})(-preview)?$/.exec(v);
    return m ? `${m[1]}${m[2] ? '0' : '1'}` : null;
  };
  const ka = key(a);
  const kb = key(b);
  if (ka === null || kb === null) return Number.NaN;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/** The api-version query parameter, checked for form; 400 when absent or malformed. */
export function apiVersion(request: FastifyRequest): string {
  const version = (request.query as Record<string, unknown>)['api-version'];
  if (typeof version !== 'string' || version.length === 0) {
    throw ApiError.invalidRequest(
      'api-version',
      "Missing required query parameter: 'api-version'. Use e.g. ?api-version=2025-01-01-preview.",
      'missing_required_parameter',
    );
  }
  if (Number.isNaN(compareApiVersions(version, AZURE_AUDIO_API_VERSION))) {
    throw ApiError.invalidRequest('api-version', `Unsupported api-version '${version}'. Expected a version like '2025-01-01-preview'.`, 'invalid_value');
  }
  return version;
}
