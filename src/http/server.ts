import crypto from 'node:crypto';
import multipart from '@fastify/multipart';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Config } from '../config/index.js';
import type { Services } from '../runtime/services.js';
import { installAdmission } from './admission.js';
import { installAuth } from './auth.js';
import { installCors } from './cors.js';
import { installErrorHandling } from './error-handler.js';
import { analysisRoutes } from './routes/analysis.js';
import { azureRoutes } from './routes/azure.js';
import { batchRoutes } from './routes/batches.js';
import { chatRoutes } from './routes/chat.js';
import { fileRoutes } from './routes/files.js';
import { healthRoutes } from './routes/health.js';
import { modelRoutes } from './routes/models.js';
import { moderationRoutes } from './routes/moderations.js';
import { parleyModelRoutes } from './routes/parley-models.js';
import { speechRoutes } from './routes/speech.js';
import { transcriptionRoutes } from './routes/transcriptions.js';
import { usageRoutes } from './routes/usage.js';
import { webRoutes } from './routes/web.js';

/** A request id in OpenAI's style; sent back as `x-request-id`. */
function newRequestId(): string {
  return `req_${crypto.randomBytes(16).toString('hex')}`;
}

/** Builds the Fastify app with every route; does not listen. */
export async function buildApp(services: Services, options: { logger?: boolean | object } = {}): Promise<FastifyInstance> {
  const config: Config = services.config;
  const app = Fastify({
    logger: options.logger ?? { level: config.logLevel },
    bodyLimit: config.bodyLimitBytes,
    genReqId: newRequestId,
    requestIdHeader: false,
    return503OnClosing: true,
  });
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  installErrorHandling(app, config.bodyLimitBytes);
  await installCors(app, config.cors.origins);
  installAuth(app, { keys: config.apiKeys, internalToken: services.internalToken });
  installAdmission(app, services);
  healthRoutes(app, services);
  modelRoutes(app, services);
  await app.register(multipart, { throwFileSizeLimit: false });
  speechRoutes(app, services);
  transcriptionRoutes(app, services);
  analysisRoutes(app, services);
  chatRoutes(app, services);
  azureRoutes(app, services);
  usageRoutes(app, services);
  moderationRoutes(app, services);
  fileRoutes(app, services);
  batchRoutes(app, services);
  parleyModelRoutes(app, services);
  webRoutes(app);
  return app;
}
