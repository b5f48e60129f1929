import crypto from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Services } from '../../runtime/services.js';
import { ApiError } from '../errors.js';
import { AZURE_AUDIO_API_VERSION, apiVersion, compareApiVersions } from '../mount.js';
import { analysisRoutes } from './analysis.js';
import { type ChatRouteOptions, chatRoutes } from './chat.js';
import { usesAudio } from './chat-params.js';
import { speechRoutes } from './speech.js';
import { transcriptionRoutes } from './transcriptions.js';

const PREFIX = '/openai/deployments/:deployment';

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
    if (!services.models.find(deployment)) {
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
  const checkTurn: ChatRouteOptions['checkTurn'] = (request, turn) => {
    const version = apiVersion(request);
    if (usesAudio(turn) && compareApiVersions(version, AZURE_AUDIO_API_VERSION) < 0) {
      throw ApiError.invalidRequest(
        'api-version',
        `Audio in chat completions requires api-version ${AZURE_AUDIO_API_VERSION} or later; this request used '${version}'.`,
        'unsupported_api_version',
      );
    }
  };
  chatRoutes(app, services, { prefix: PREFIX, modelFor, azure: true, checkTurn });
  speechRoutes(app, services, { prefix: PREFIX, modelFor, azure: true });
  transcriptionRoutes(app, services, { prefix: PREFIX, modelFor, azure: true });
  analysisRoutes(app, services, { prefix: PREFIX, modelFor, azure: true });
}
