import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import v8 from 'node:v8';
import vm from 'node:vm';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Services } from '../runtime/services.js';
import { requestScope } from './request-scope.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

/** A request and reply as far as `requestScope` uses them; `end()` finishes the response. */
function fakeExchange(i: number) {
  const raw = Object.assign(new EventEmitter(), { writableFinished: false });
  const reply = { raw } as unknown as FastifyReply;
  const request = { raw: new EventEmitter(), id: `req_${i}`, owner: null, headers: {} } as unknown as FastifyRequest;
  return {
    request,
    reply,
    end: () => {
      raw.writableFinished = true;
      raw.emit('close');
    },
  };
}

test('a request scope leaves nothing behind on the long-lived shutdown signal (Node 20 leaks with AbortSignal.any)', () => {
  const shutdown = new AbortController();
  const services = { shutdownSignal: shutdown.signal, internalToken: 'token', config: { usage: { enabled: true } } } as unknown as Services;
  const run = (n: number) => {
    for (let i = 0; i < n; i++) {
      const x = fakeExchange(i);
      const scope = requestScope(x.request, x.reply, services);
      assert.equal(scope.signal.aborted, false);
      x.end();
    }
  };
  run(5_000); // warm up
  gc();
  const before = process.memoryUsage().heapUsed;
  run(40_000);
  gc();
  const grownMb = (process.memoryUsage().heapUsed - before) / 1024 / 1024;
  // With AbortSignal.any each request kept ~2 KB reachable from the shutdown signal: ~80 MB here.
  assert.ok(grownMb < 8, `heap grew ${grownMb.toFixed(1)} MB over 40 000 requests`);
});

test('the scope aborts when the client leaves before the response is complete, and at forced shutdown', () => {
  const shutdown = new AbortController();
  const services = { shutdownSignal: shutdown.signal, internalToken: 'token', config: { usage: { enabled: true } } } as unknown as Services;
  const gone = fakeExchange(1);
  const left = requestScope(gone.request, gone.reply, services);
  gone.reply.raw.emit('close');
  assert.equal(left.signal.aborted, true);
  assert.equal((left.signal.reason as Error).name, 'AbortError');
  const running = fakeExchange(2);
  const scope = requestScope(running.request, running.reply, services);
  assert.equal(requestScope(running.request, running.reply, services), scope, 'one scope per request');
  shutdown.abort(new Error('shutting down'));
  assert.equal(scope.signal.aborted, true);
});
