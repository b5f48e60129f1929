import crypto from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError } from '../errors.js';
import type { Services } from '../services.js';
import { analysisRoutes } from './analysis.js';
import { chatRoutes } from './chat.js';
import { speechRoutes } from './speech.js';
import { transcriptionRoutes } from './transcriptions.js';

/** The first Azure OpenAI API version with audio in chat completions. */
export const AZURE_AUDIO_API_VERSION = '2025-01-01-preview';
const PREFIX = '/openai/deployments/:deployment';

/** Orders Azure api-versions: by date, and a GA version after the preview of the same date. */
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

/**
 * Azure OpenAI's routes: `/openai/deployments/{deployment}/chat/completions?api-version=…` and the
 * audio endpoints under the same prefix. `api-version` is required; audio in chat needs
 * 2025-01-01-preview or later. The deployment name maps to a served model through the config's
 * `models` aliases (or names one directly). Every response carries `apim-request-id`.
 */
export function azureRoutes(app: FastifyInstance, services: Services): void {
  app.addHook('onRequest', async (request, reply) => {
    if (request.url.startsWith('/openai/')) reply.header('apim-request-id', crypto.randomUUID());
  });
  const modelFor = (request: FastifyRequest): string => {
    apiVersion(request);
    const deployment = (request.params as { deployment: string }).deployment;
    const model = services.models.find(deployment);
    if (!model) {
      throw new ApiError({
        status: 404,
        type: 'invalid_request_error',
        code: 'DeploymentNotFound',
        param: null,
        message: `The API deployment '${deployment}' does not exist. Map it to a model in the config's 'models' section (e.g. models: { ${deployment}: gpt-4o-mini-audio-preview }).`,
      });
    }
    return deployment;
  };
  const chatModelFor = (request: FastifyRequest): string => {
    const model = modelFor(request);
    const body = request.body as { modalities?: unknown; audio?: unknown; messages?: unknown } | undefined;
    const usesAudio = (Array.isArray(body?.modalities) && body.modalities.includes('audio')) || JSON.stringify(body?.messages ?? '').includes('"input_audio"');
    const version = apiVersion(request);
    if (usesAudio && compareApiVersions(version, AZURE_AUDIO_API_VERSION) < 0) {
      throw ApiError.invalidRequest(
        'api-version',
        `Audio in chat completions requires api-version ${AZURE_AUDIO_API_VERSION} or later; this request used '${version}'.`,
        'unsupported_api_version',
      );
    }
    return model;
  };
  chatRoutes(app, services, { prefix: PREFIX, modelFor: chatModelFor, azure: true });
  speechRoutes(app, services, { prefix: PREFIX, modelFor });
  transcriptionRoutes(app, services, { prefix: PREFIX, modelFor });
  analysisRoutes(app, services, { prefix: PREFIX, modelFor });
}
