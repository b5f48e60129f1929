import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/**
 * The playground (web/, built by `npm run build:web` into web/dist) served at `/`. Same place from
 * src/ (tests, tsx) and dist/ (the built server): three folders up is the package root.
 */
export const WEB_ROOT = path.resolve(import.meta.dirname, '../../..', 'web', 'dist');

/**
 * The page's own paths (client-side routes): they get index.html. Nothing else does, so an unknown
 * path, or anything under /v1, /openai or /health, still gets the API's 404 in OpenAI's shape.
 */
export const PAGE_PATHS = ['/', '/talk', '/speak', '/transcribe', '/batches', '/usage', '/models'] as const;

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

/** Vite names everything under assets/ after its content: safe to keep for a year. */
const IMMUTABLE = 'public, max-age=31536000, immutable';
/** index.html and unhashed files: always revalidated (cheap with the ETag), so a rebuild shows at once. */
const REVALIDATE = 'no-cache';

interface StaticFile {
  file: string;
  type: string;
  size: number;
  etag: string;
  cacheControl: string;
}

/** Files of the built page by URL path, read once at start (the build happens at install). */
function scan(root: string): Map<string, StaticFile> {
  const files = new Map<string, StaticFile>();
  const walk = (dir: string, urlPrefix: string): void => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const full = path.join(dir, entry.name);
      const url = `${urlPrefix}/${entry.name}`;
      if (entry.isDirectory()) {
        walk(full, url);
        continue;
      }
      if (!entry.isFile()) continue;
      const type = CONTENT_TYPES[path.extname(entry.name).toLowerCase()];
      if (!type) continue; // only what the page is made of
      const bytes = fs.readFileSync(full);
      files.set(url, {
        file: full,
        type,
        size: bytes.length,
        etag: `"${crypto.createHash('sha256').update(bytes).digest('base64url').slice(0, 27)}"`,
        cacheControl: url.startsWith('/assets/') ? IMMUTABLE : REVALIDATE,
      });
    }
  };
  walk(root, '');
  return files;
}

function send(request: FastifyRequest, reply: FastifyReply, file: StaticFile) {
  void reply.header('content-type', file.type).header('cache-control', file.cacheControl).header('etag', file.etag).header('x-content-type-options', 'nosniff');
  const match = request.headers['if-none-match'];
  if (typeof match === 'string' && match.split(',').some((tag) => tag.trim() === file.etag)) return reply.status(304).send();
  void reply.header('content-length', file.size);
  if (request.method === 'HEAD') return reply.send();
  return reply.send(fs.createReadStream(file.file));
}

/**
 * `GET /` and the page's paths: the playground. Its files need no API key (they hold none; the
 * page asks for one and sends it with each API call), so these routes are marked `public` for the
 * key check. When the page was not built, `/` says how to build it.
 */
export function webRoutes(app: FastifyInstance, options: { root?: string } = {}): void {
  const root = options.root ?? WEB_ROOT;
  const files = scan(root);
  const index = files.get('/index.html');
  const routeConfig = { public: true };

  for (const page of PAGE_PATHS) {
    app.get(page, { config: routeConfig }, async (request, reply) => {
      if (!index) {
        return reply
          .status(404)
          .header('content-type', 'text/plain; charset=utf-8')
          .header('cache-control', REVALIDATE)
          .send('The Parley playground is not built. Run `npm run build:web` (or `npm ci`, which builds everything), then restart.\n');
      }
      return send(request, reply, index);
    });
  }
  for (const [url, file] of files) {
    if (url === '/index.html') continue;
    app.get(url, { config: routeConfig }, async (request, reply) => send(request, reply, file));
  }
}
