import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { ModelPulls, type PullEvent, type PullProgress } from '../../runtime/model-pulls.js';
import { describeCapabilities } from '../../runtime/model-status.js';
import type { Services } from '../../runtime/services.js';
import { ModelCache } from '../../store/model-cache/cache.js';
import { assertAdmin } from '../admin.js';
import { toApiError } from '../error-handler.js';
import { ApiError } from '../errors.js';
import { SseQueue } from '../sse.js';
import { asObject, readBoolean } from '../validate.js';

/** Progress events are sent at most this often (the last one always). */
const PROGRESS_EVERY_MS = 200;

function wireProgress(p: PullProgress, status: 'downloading' | 'completed') {
  return { object: 'parley.model.pull', model: p.model, status, bytes_done: p.bytesDone, bytes_total: p.bytesTotal, file: p.file };
}

/**
 * Model administration (a Parley extension), for the playground's Models page and
 * `parley models pull --url`:
 * - `GET /v1/parley/models`: what serves each capability (engine, model, ready or missing, what to
 *   pull, what would be better) and every catalogue model with its installed state and any pull
 *   running;
 * - `POST /v1/parley/models/{name}/pull`: starts (or joins) a download and streams its progress as
 *   server-sent events (`{"stream": false}` waits and answers once); the download goes on if the
 *   client leaves;
 * - `DELETE /v1/parley/models/{name}/pull`: stops it (what was downloaded is kept).
 * All three are admin routes (see admin.ts).
 */
export function parleyModelRoutes(
  app: FastifyInstance,
  services: Pick<Services, 'config'> & Partial<Pick<Services, 'cache' | 'pulls'>>,
  options: { cache?: ModelCache } = {},
): void {
  const config = services.config;
  const cache = options.cache ?? services.cache ?? new ModelCache(config.modelsDir!, { offline: config.offline, baseUrl: config.modelsMirror });
  // The process's pulls when the runtime has them (a first-run download and an admin pull of the same model are one download).
  let pulls = options.cache ? undefined : services.pulls;
  if (!pulls) {
    const own = new ModelPulls(cache);
    app.addHook('onClose', () => own.close());
    pulls = own;
  }

  const catalogueName = (name: string): string => {
    if (!cache.entries().some((e) => e.name === name)) {
      throw ApiError.notFound(
        `Unknown model '${name}'. Models that can be pulled: ${cache
          .entries()
          .map((e) => e.name)
          .join(', ')}.`,
        'model_not_found',
        'model',
      );
    }
    return name;
  };

  app.get('/v1/parley/models', async (request) => {
    assertAdmin(request, config);
    const [capabilities, models] = await Promise.all([describeCapabilities(config, cache), cache.list()]);
    const running = new Map(pulls.running().map((p) => [p.model, p]));
    return {
      object: 'parley.models',
      offline: config.offline,
      capabilities: capabilities.map((c) => ({ object: 'parley.capability', ...c })),
      data: models.map((m) => {
        const pull = running.get(m.name);
        return {
          object: 'parley.model',
          name: m.name,
          kind: m.kind,
          engine: m.engine,
          description: m.description,
          licence: m.licence,
          catalogued: m.catalogued,
          installed: m.installed,
          partial: m.partial,
          size_bytes: m.size,
          size_on_disk_bytes: m.sizeOnDisk,
          pulling: pull ? { bytes_done: pull.bytesDone, bytes_total: pull.bytesTotal, file: pull.file } : null,
        };
      }),
    };
  });

  app.post<{ Params: { name: string } }>('/v1/parley/models/:name/pull', async (request, reply) => {
    assertAdmin(request, config);
    const name = catalogueName(request.params.name);
    const stream = request.body === undefined || request.body === null ? true : (readBoolean(asObject(request.body), 'stream', { default: true }) ?? true);

    if (!stream) {
      const result = await new Promise<PullEvent>((resolve) => {
        const stop = pulls.follow(name, (event) => {
          if (event.type === 'progress') return;
          queueMicrotask(() => stop());
          resolve(event);
        });
      });
      if (result.type === 'failed') throw result.error;
      if (result.type !== 'done') throw ApiError.internal(new Error('pull ended without a result'));
      const r = result.result;
      return {
        object: 'parley.model.pull',
        model: r.name,
        status: 'completed',
        downloaded: r.downloaded,
        skipped: r.skipped,
        transferred_bytes: r.transferred,
      };
    }

    const events = new SseQueue();
    let last = 0;
    let pending: PullProgress | undefined;
    const stop = pulls.follow(name, (event) => {
      if (event.type === 'progress') {
        const now = Date.now();
        if (now - last < PROGRESS_EVERY_MS) {
          pending = event.progress;
          return;
        }
        last = now;
        pending = undefined;
        events.push(wireProgress(event.progress, 'downloading'));
        return;
      }
      if (pending) events.push(wireProgress(pending, 'downloading'));
      if (event.type === 'done') {
        const r = event.result;
        const size = Object.values(r.manifest.files).reduce((sum, f) => sum + f.size, 0);
        events.push({
          ...wireProgress({ model: r.name, bytesDone: size, bytesTotal: size, file: '' }, 'completed'),
          downloaded: r.downloaded,
          skipped: r.skipped,
          transferred_bytes: r.transferred,
        });
        events.push('[DONE]');
      } else {
        const e = toApiError(event.error, config.bodyLimitBytes);
        if (e.status >= 500) request.log.error({ err: e.cause ?? event.error }, 'model pull failed');
        events.push(e.toWire());
      }
      events.close();
    });
    // The client leaving stops the stream, not the download (DELETE stops that).
    reply.raw.once('close', () => {
      stop();
      events.close();
    });
    reply.header('content-type', 'text/event-stream').header('cache-control', 'no-cache');
    return reply.send(Readable.from(events.events()));
  });

  app.delete<{ Params: { name: string } }>('/v1/parley/models/:name/pull', async (request) => {
    assertAdmin(request, config);
    const name = catalogueName(request.params.name);
    if (!pulls.cancel(name)) throw ApiError.notFound(`No pull of '${name}' is running.`, 'pull_not_found', 'model');
    return { object: 'parley.model.pull', model: name, status: 'cancelled' };
  });
}
