/**
 * The openai-compatible engine (the `openai` SDK plus guarded-fetch.ts) against a fake upstream
 * written here with node:http: SSE streaming, retries, timeouts, error mapping, tool-call deltas,
 * cancellation. No test asserts an upper bound on time except generous ones where a hang is the bug.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { isApiError } from '../../../errors.js';
import type { LlmGenerateOptions } from '../types.js';
import { createOpenAiCompatibleEngine, type OpenAiCompatibleEngine } from './index.js';

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Record<string, unknown>;
  closed: Promise<void>;
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, n: number, seen: Seen) => void | Promise<void>;

let server: http.Server;
let base: string;
let handler: Handler;
let seen: Seen[];

before(async () => {
  server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      const entry: Seen = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: raw ? (JSON.parse(raw) as Record<string, unknown>) : {},
        closed: new Promise((resolve) => res.on('close', () => resolve())),
      };
      seen.push(entry);
      void handler(req, res, seen.length, entry);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  seen = [];
});

function engine(overrides: Parameters<typeof createOpenAiCompatibleEngine>[1] = {}): Promise<OpenAiCompatibleEngine> {
  return createOpenAiCompatibleEngine({ model: 'up-model', modelsDir: '', threads: 1, url: base, apiKey: 'sk-test' }, overrides);
}

function chunk(delta: Record<string, unknown>, finish: string | null = null): Record<string, unknown> {
  return { id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: 'up-model', choices: [{ index: 0, delta, finish_reason: finish }] };
}

function startSse(res: http.ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  res.flushHeaders();
}

function send(res: http.ServerResponse, data: unknown): void {
  res.write(`data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`);
}

function sseReply(res: http.ServerResponse, chunks: unknown[], done = true): void {
  startSse(res);
  for (const c of chunks) send(res, c);
  if (done) send(res, '[DONE]');
  res.end();
}

function textReply(res: http.ServerResponse, parts: string[], usage?: Record<string, unknown>): void {
  sseReply(res, [
    chunk({ role: 'assistant', content: '' }),
    ...parts.map((p) => chunk({ content: p })),
    chunk({}, 'stop'),
    ...(usage ? [{ id: 'chatcmpl-1', object: 'chat.completion.chunk', choices: [], usage }] : []),
  ]);
}

function errorReply(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = typeof body === 'string';
  res.writeHead(status, { 'content-type': text ? 'text/plain' : 'application/json', ...headers });
  res.end(text ? body : JSON.stringify(body));
}

/** Whether the upstream saw the request's connection close within `ms` (a hang, not a speed, is the bug). */
function closedWithin(s: Seen, ms: number): Promise<boolean> {
  return Promise.race([s.closed.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))]);
}

const hello: LlmGenerateOptions = { messages: [{ role: 'user', content: 'Hello' }] };

describe('openai-compatible engine', () => {
  it('streams text deltas through onText and takes usage from the final chunk', async () => {
    handler = (_req, res) =>
      textReply(res, ['Hel', 'lo', ' world'], { prompt_tokens: 12, completion_tokens: 3, total_tokens: 15, prompt_tokens_details: { cached_tokens: 8 } });
    const e = await engine();
    let streamed = '';
    const r = await e.generate({
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hello' },
      ],
      temperature: 0.5,
      topP: 0.9,
      maxTokens: 20,
      stop: ['\n\n'],
      seed: 7,
      onText: (d) => (streamed += d),
    });
    assert.equal(r.text, 'Hello world');
    assert.equal(streamed, 'Hello world');
    assert.equal(r.finishReason, 'stop');
    assert.deepEqual(r.usage, { promptTokens: 12, completionTokens: 3, cachedTokens: 8 });
    assert.equal(seen.length, 1);
    const req = seen[0]!;
    assert.equal(req.method, 'POST');
    assert.equal(req.url, '/v1/chat/completions');
    assert.equal(req.headers.authorization, 'Bearer sk-test');
    assert.deepEqual(req.body, {
      model: 'up-model',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hello' },
      ],
      stream: true,
      stream_options: { include_usage: true },
      temperature: 0.5,
      top_p: 0.9,
      max_tokens: 20,
      stop: ['\n\n'],
      seed: 7,
    });
  });

  it('sends tools, tool_choice, response_format and a tool conversation in OpenAI wire form', async () => {
    handler = (_req, res) => textReply(res, ['ok']);
    const e = await engine();
    await e.generate({
      messages: [
        { role: 'user', content: 'Weather?' },
        { role: 'assistant', content: '', toolCalls: [{ id: 'call_a', name: 'get_weather', arguments: '{"city":"Oslo"}' }] },
        { role: 'tool', toolCallId: 'call_a', content: '{"t":3}' },
      ],
      tools: [{ name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } }],
      toolChoice: { name: 'get_weather' },
      responseFormat: { type: 'json_schema', name: 'w', schema: { type: 'object' }, strict: true },
    });
    const body = seen[0]!.body;
    assert.deepEqual(body.messages, [
      { role: 'user', content: 'Weather?' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } }] },
      { role: 'tool', content: '{"t":3}', tool_call_id: 'call_a' },
    ]);
    assert.deepEqual(body.tools, [
      { type: 'function', function: { name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } },
    ]);
    assert.deepEqual(body.tool_choice, { type: 'function', function: { name: 'get_weather' } });
    assert.deepEqual(body.response_format, { type: 'json_schema', json_schema: { name: 'w', schema: { type: 'object' }, strict: true } });
  });

  it('assembles streamed tool-call deltas into whole calls', async () => {
    handler = (_req, res) =>
      sseReply(res, [
        chunk({
          role: 'assistant',
          content: null,
          tool_calls: [{ index: 0, id: 'call_x1', type: 'function', function: { name: 'get_weather', arguments: '' } }],
        }),
        chunk({ tool_calls: [{ index: 0, function: { arguments: '{"ci' } }] }),
        chunk({ tool_calls: [{ index: 0, function: { arguments: 'ty":"Oslo"}' } }] }),
        chunk({ tool_calls: [{ index: 1, id: 'call_x2', type: 'function', function: { name: 'get_time', arguments: '{}' } }] }),
        chunk({}, 'tool_calls'),
      ]);
    const e = await engine();
    let streamed = '';
    const r = await e.generate({ ...hello, onText: (d) => (streamed += d) });
    assert.equal(r.finishReason, 'tool_calls');
    assert.equal(r.text, '');
    assert.equal(streamed, '');
    assert.deepEqual(r.toolCalls, [
      { id: 'call_x1', name: 'get_weather', arguments: '{"city":"Oslo"}' },
      { id: 'call_x2', name: 'get_time', arguments: '{}' },
    ]);
  });

  it('retries a 429 after the time retry-after asks for, then succeeds', async () => {
    handler = (_req, res, n) => {
      if (n === 1) errorReply(res, 429, { error: { message: 'slow down', type: 'rate_limit_error' } }, { 'retry-after': '0.3' });
      else textReply(res, ['fine']);
    };
    const e = await engine();
    const started = performance.now();
    const r = await e.generate(hello);
    assert.equal(r.text, 'fine');
    assert.equal(seen.length, 2);
    assert.ok(performance.now() - started >= 280, 'waited for retry-after');
  });

  it('gives up on an upstream that always answers 500 with a clean 502 upstream_error', async () => {
    handler = (_req, res) => errorReply(res, 500, { error: { message: 'CUDA out of memory at /srv/secret/path' } }, { 'retry-after-ms': '5' });
    const e = await engine();
    await assert.rejects(e.generate(hello), (err: unknown) => {
      assert.ok(isApiError(err));
      assert.equal(err.status, 502);
      assert.equal(err.type, 'server_error');
      assert.equal(err.code, 'upstream_error');
      assert.ok(!err.message.includes('secret'), 'no upstream internals');
      return true;
    });
    assert.equal(seen.length, 3, 'the first attempt and two retries');
  });

  it('maps a 401 from the upstream to engine_unavailable saying the upstream refused the key, without retrying', async () => {
    handler = (_req, res) => errorReply(res, 401, { error: { message: 'Incorrect API key provided: sk-te**', code: 'invalid_api_key' } });
    const e = await engine();
    await assert.rejects(e.generate(hello), (err: unknown) => {
      assert.ok(isApiError(err));
      assert.equal(err.status, 503);
      assert.equal(err.code, 'engine_unavailable');
      assert.match(err.message, /PARLEY_LLM_API_KEY/);
      assert.match(err.message, /refused/);
      assert.ok(!err.message.includes('sk-te'));
      return true;
    });
    assert.equal(seen.length, 1);
  });

  it("passes a 400's message, param and code through as a 400", async () => {
    handler = (_req, res) =>
      errorReply(res, 400, {
        error: { message: "Invalid value for 'temperature'.", type: 'invalid_request_error', param: 'temperature', code: 'invalid_value' },
      });
    const e = await engine();
    await assert.rejects(e.generate(hello), (err: unknown) => {
      assert.ok(isApiError(err));
      assert.equal(err.status, 400);
      assert.equal(err.message, "Invalid value for 'temperature'.");
      assert.equal(err.param, 'temperature');
      assert.equal(err.code, 'invalid_value');
      return true;
    });
    assert.equal(seen.length, 1);
  });

  it('maps a 404 to engine_unavailable naming the model', async () => {
    handler = (_req, res) => errorReply(res, 404, { error: "model 'up-model' not found" });
    const e = await engine();
    await assert.rejects(
      e.generate(hello),
      (err: unknown) => isApiError(err) && err.status === 503 && err.code === 'engine_unavailable' && err.message.includes("'up-model'"),
    );
  });

  it('retries when the connection drops before the first token', async () => {
    handler = (req, res, n) => {
      if (n === 1) req.socket.destroy();
      else textReply(res, ['again']);
    };
    const e = await engine();
    const r = await e.generate(hello);
    assert.equal(r.text, 'again');
    assert.equal(seen.length, 2);
  });

  it('does not retry once text was streamed: a broken stream is a 502', async () => {
    handler = (req, res) => {
      startSse(res);
      send(res, chunk({ content: 'partial' }));
      setTimeout(() => req.socket.destroy(), 20);
    };
    const e = await engine();
    let streamed = '';
    await assert.rejects(e.generate({ ...hello, onText: (d) => (streamed += d) }), (err: unknown) => isApiError(err) && err.status === 502);
    assert.equal(streamed, 'partial');
    assert.equal(seen.length, 1);
  });

  it('times out an upstream that goes silent, and retries it before the first token', async () => {
    handler = (_req, res, n) => {
      if (n === 1)
        startSse(res); // headers, then nothing
      else textReply(res, ['awake']);
    };
    const e = await engine({ idleTimeoutMs: 150 });
    const r = await e.generate(hello);
    assert.equal(r.text, 'awake');
    assert.equal(seen.length, 2);
    assert.equal(await closedWithin(seen[0]!, 5000), true, 'the silent request was closed');
  });

  it('times out an upstream that never sends headers, and retries it', async () => {
    handler = (_req, res, n) => {
      if (n > 1) textReply(res, ['late but fine']);
    };
    const e = await engine({ connectTimeoutMs: 150 });
    const r = await e.generate(hello);
    assert.equal(r.text, 'late but fine');
    assert.equal(seen.length, 2);
  });

  it('closes the upstream request when the signal aborts mid-stream', async () => {
    handler = (_req, res) => {
      startSse(res);
      send(res, chunk({ role: 'assistant', content: '' }));
      const timer = setInterval(() => send(res, chunk({ content: 'x' })), 10);
      res.on('close', () => clearInterval(timer));
    };
    const e = await engine();
    const controller = new AbortController();
    let chunks = 0;
    const pending = e.generate({
      ...hello,
      signal: controller.signal,
      onText: () => {
        if (++chunks === 3) controller.abort();
      },
    });
    await assert.rejects(pending, (err: unknown) => err instanceof Error && err.name === 'AbortError');
    assert.equal(await closedWithin(seen[0]!, 5000), true, 'the upstream saw the connection close');
    assert.equal(seen.length, 1, 'no retry after an abort');
  });

  it('stops waiting for a retry when aborted during the backoff', async () => {
    // The SDK's own sleep is not abortable; the engine must not wait the 30 s.
    handler = (_req, res) => errorReply(res, 503, { error: 'busy' }, { 'retry-after': '30' });
    const e = await engine();
    const controller = new AbortController();
    const pending = e.generate({ ...hello, signal: controller.signal });
    while (seen.length === 0) await new Promise((r) => setTimeout(r, 10));
    const started = performance.now();
    controller.abort(new Error('client left'));
    await assert.rejects(pending, /client left/);
    assert.ok(performance.now() - started < 10_000);
    assert.equal(seen.length, 1);
  });

  it('estimates usage when the upstream sends none', async () => {
    handler = (_req, res) => textReply(res, ['12345678']);
    const e = await engine();
    const r = await e.generate(hello);
    assert.equal(r.usage.completionTokens, 2);
    assert.ok(r.usage.promptTokens > 0);
    assert.equal(r.usage.cachedTokens, 0);
  });

  it('asks again without stream_options when the upstream rejects that field', async () => {
    handler = (_req, res, _n, s) => {
      if (s.body.stream_options) errorReply(res, 400, { error: { message: 'Unrecognized request argument supplied: stream_options' } });
      else textReply(res, ['old server']);
    };
    const e = await engine();
    const r = await e.generate(hello);
    assert.equal(r.text, 'old server');
    assert.equal(seen.length, 2);
  });

  it('reads a reply that came back as one JSON completion instead of a stream', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          choices: [{ index: 0, message: { role: 'assistant', content: 'whole' }, finish_reason: 'length' }],
          usage: { prompt_tokens: 5, completion_tokens: 1 },
        }),
      );
    };
    const e = await engine();
    let streamed = '';
    const r = await e.generate({ ...hello, onText: (d) => (streamed += d) });
    assert.equal(r.text, 'whole');
    assert.equal(streamed, 'whole');
    assert.equal(r.finishReason, 'length');
    assert.deepEqual(r.usage, { promptTokens: 5, completionTokens: 1, cachedTokens: 0 });
  });

  it('maps an error streamed in place of chunks', async () => {
    handler = (_req, res) =>
      sseReply(res, [{ error: { code: 400, message: 'the request exceeds the available context size', type: 'exceed_context_size_error' } }]);
    const e = await engine();
    await assert.rejects(e.generate(hello), (err: unknown) => isApiError(err) && err.status === 400 && /context size/.test(err.message));
  });

  it('fails with engine_unavailable when nothing listens at the URL', async () => {
    const probe = http.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const e = await createOpenAiCompatibleEngine({ model: 'm', modelsDir: '', threads: 1, url: `http://127.0.0.1:${port}/v1`, maxRetries: 0 });
    await assert.rejects(e.generate(hello), (err: unknown) => isApiError(err) && err.status === 503 && err.code === 'engine_unavailable');
  });

  it('takes the first model the upstream lists when none is configured', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ object: 'list', data: [{ id: 'qwen2.5:0.5b', object: 'model' }] }));
    };
    const e = await createOpenAiCompatibleEngine({ modelsDir: '', threads: 1, url: base });
    assert.equal(e.model, 'qwen2.5:0.5b');
    assert.equal(seen[0]!.url, '/v1/models');
  });

  it('fails with engine_unavailable when no URL is configured', async () => {
    await assert.rejects(
      createOpenAiCompatibleEngine({ model: 'm', modelsDir: '', threads: 1 }),
      (err: unknown) => isApiError(err) && err.code === 'engine_unavailable' && err.message.includes('PARLEY_LLM_URL'),
    );
  });

  it('honours retry-after-ms before the first token, then streams the reply once', async () => {
    handler = (_req, res, n) => {
      if (n === 1) errorReply(res, 503, { error: { message: 'loading model' } }, { 'retry-after-ms': '300' });
      else textReply(res, ['once']);
    };
    const e = await engine();
    const started = performance.now();
    let streamed = '';
    const r = await e.generate({ ...hello, onText: (d) => (streamed += d) });
    assert.ok(performance.now() - started >= 280, 'waited for retry-after-ms');
    assert.equal(r.text, 'once');
    assert.equal(streamed, 'once');
    assert.equal(seen.length, 2);
  });

  it('does not wait for a retry-after longer than maxRetryAfterMs: the 429 goes to the client at once', async () => {
    handler = (_req, res) => errorReply(res, 429, { error: { message: 'quota', type: 'rate_limit_error' } }, { 'retry-after': '3600' });
    const e = await engine({ maxRetryAfterMs: 1000 });
    await assert.rejects(e.generate(hello), (err: unknown) => isApiError(err) && err.status === 429 && err.type === 'rate_limit_error');
    assert.equal(seen.length, 1);
  });

  it('obeys x-should-retry: false from the upstream', async () => {
    handler = (_req, res) => errorReply(res, 500, { error: { message: 'deterministic failure' } }, { 'x-should-retry': 'false' });
    const e = await engine();
    await assert.rejects(e.generate(hello), (err: unknown) => isApiError(err) && err.status === 502 && err.code === 'upstream_error');
    assert.equal(seen.length, 1);
  });

  it('does not retry an error streamed after text: it is a 502 and the text is not repeated', async () => {
    handler = (_req, res) => sseReply(res, [chunk({ content: 'partial' }), { error: { code: 500, message: 'slot crashed' } }], false);
    const e = await engine();
    let streamed = '';
    await assert.rejects(
      e.generate({ ...hello, onText: (d) => (streamed += d) }),
      (err: unknown) => isApiError(err) && err.status === 502 && err.code === 'upstream_error' && /middle of a reply/.test(err.message),
    );
    assert.equal(streamed, 'partial');
    assert.equal(seen.length, 1);
  });

  it('ends a reply whose upstream goes silent mid-stream with a 504 after idleTimeoutMs, closing the request, without retrying', async () => {
    handler = (_req, res) => {
      startSse(res);
      send(res, chunk({ content: 'half' }));
    };
    const e = await engine({ idleTimeoutMs: 200 });
    let streamed = '';
    await assert.rejects(
      e.generate({ ...hello, onText: (d) => (streamed += d) }),
      (err: unknown) => isApiError(err) && err.status === 504 && err.code === 'upstream_timeout',
    );
    assert.equal(streamed, 'half');
    assert.equal(seen.length, 1);
    assert.equal(await closedWithin(seen[0]!, 5000), true, 'the upstream saw the connection close');
  });

  it('keeps a slow but living stream: chunks closer together than idleTimeoutMs never time out', async () => {
    handler = (_req, res) => {
      startSse(res);
      let i = 0;
      const timer = setInterval(() => {
        if (++i <= 4) return send(res, chunk({ content: String(i) }));
        clearInterval(timer);
        send(res, chunk({}, 'stop'));
        send(res, '[DONE]');
        res.end();
      }, 50);
      res.on('close', () => clearInterval(timer));
    };
    const e = await engine({ idleTimeoutMs: 2000 });
    assert.equal((await e.generate(hello)).text, '1234');
  });

  it('assembles tool calls whose names and arguments arrive in pieces, interleaved by index, after some text', async () => {
    handler = (_req, res) =>
      sseReply(res, [
        chunk({ role: 'assistant', content: 'Let me check. ' }),
        chunk({ tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'get_', arguments: '' } }] }),
        chunk({ tool_calls: [{ index: 0, function: { name: 'weather', arguments: '{"ci' } }] }),
        chunk({ tool_calls: [{ index: 1, type: 'function', function: { name: 'get_time', arguments: '{"tz":' } }] }),
        chunk({ tool_calls: [{ index: 0, function: { arguments: 'ty":"Os' } }] }),
        chunk({ tool_calls: [{ index: 1, function: { arguments: '"UTC"}' } }] }),
        chunk({ tool_calls: [{ index: 0, function: { arguments: 'lo"}' } }] }),
        chunk({}, 'tool_calls'),
      ]);
    const e = await engine();
    let streamed = '';
    const r = await e.generate({ ...hello, onText: (d) => (streamed += d) });
    assert.equal(streamed, 'Let me check. ');
    assert.equal(r.text, 'Let me check. ');
    assert.equal(r.finishReason, 'tool_calls');
    assert.equal(r.toolCalls.length, 2);
    assert.deepEqual(r.toolCalls[0], { id: 'call_a', name: 'get_weather', arguments: '{"city":"Oslo"}' });
    assert.equal(r.toolCalls[1]!.name, 'get_time');
    assert.equal(r.toolCalls[1]!.arguments, '{"tz":"UTC"}');
    assert.match(r.toolCalls[1]!.id, /^call_[A-Za-z0-9]{24}$/, 'a call without an id gets one');
  });

  it('reads whole tool calls sent without an index, with arguments as a string or an object', async () => {
    handler = (_req, res) =>
      sseReply(res, [
        chunk({
          tool_calls: [
            { id: 'call_1', function: { name: 'a', arguments: '{"x":1}' } },
            { id: 'call_2', function: { name: 'b', arguments: { y: 2 } } },
          ],
        }),
        chunk({}, 'tool_calls'),
      ]);
    const e = await engine();
    const r = await e.generate(hello);
    assert.deepEqual(r.toolCalls, [
      { id: 'call_1', name: 'a', arguments: '{"x":1}' },
      { id: 'call_2', name: 'b', arguments: '{"y":2}' },
    ]);
  });

  it('maps upstream errors of every shape to clean ApiErrors', async () => {
    const cases: Array<{ status: number; body: unknown; expect: { status: number; code: string | null; message?: RegExp } }> = [
      {
        status: 403,
        body: { error: { message: 'forbidden for sk-secret' } },
        expect: { status: 503, code: 'engine_unavailable', message: /PARLEY_LLM_API_KEY/ },
      },
      // vLLM's older shape: the fields at the top level.
      {
        status: 400,
        body: { object: 'error', message: "This model's maximum context length is 2048 tokens.", type: 'BadRequestError', param: null, code: 400 },
        expect: { status: 400, code: null, message: /^This model's maximum context length is 2048 tokens\.$/ },
      },
      { status: 422, body: { detail: 'bad' }, expect: { status: 400, code: null } },
      // Ollama's shape: the error as a string.
      {
        status: 404,
        body: { error: "model 'up-model' not found, try pulling it first" },
        expect: { status: 503, code: 'engine_unavailable', message: /'up-model'/ },
      },
      { status: 501, body: 'Not Implemented', expect: { status: 502, code: 'upstream_error', message: /HTTP 501/ } },
    ];
    for (const c of cases) {
      handler = (_req, res) => errorReply(res, c.status, c.body, { 'x-should-retry': 'false' });
      const e = await engine();
      await assert.rejects(e.generate(hello), (err: unknown) => {
        assert.ok(isApiError(err), String(err));
        assert.equal(err.status, c.expect.status, `HTTP ${c.status}`);
        assert.equal(err.code, c.expect.code, `HTTP ${c.status}`);
        if (c.expect.message) assert.match(err.message, c.expect.message);
        assert.ok(!err.message.includes('sk-secret'));
        return true;
      });
    }
  });

  it('sends no Authorization header without a key, and no organisation or project from the environment', async () => {
    handler = (_req, res) => textReply(res, ['ok']);
    const saved = { org: process.env.OPENAI_ORG_ID, project: process.env.OPENAI_PROJECT_ID };
    process.env.OPENAI_ORG_ID = 'org-leak';
    process.env.OPENAI_PROJECT_ID = 'proj-leak';
    try {
      const e = await createOpenAiCompatibleEngine({ model: 'm', modelsDir: '', threads: 1, url: base });
      await e.generate(hello);
    } finally {
      for (const [k, v] of [
        ['OPENAI_ORG_ID', saved.org],
        ['OPENAI_PROJECT_ID', saved.project],
      ] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
    const h = seen[0]!.headers;
    assert.equal(h.authorization, undefined);
    assert.equal(h['openai-organization'], undefined);
    assert.equal(h['openai-project'], undefined);
  });

  it('sends json_object, the penalties and tool_choice required', async () => {
    handler = (_req, res) => textReply(res, ['{}']);
    const e = await engine();
    await e.generate({
      ...hello,
      frequencyPenalty: 0.5,
      presencePenalty: -0.5,
      responseFormat: { type: 'json_object' },
      tools: [{ name: 'f' }],
      toolChoice: 'required',
    });
    const body = seen[0]!.body;
    assert.equal(body.frequency_penalty, 0.5);
    assert.equal(body.presence_penalty, -0.5);
    assert.deepEqual(body.response_format, { type: 'json_object' });
    assert.deepEqual(body.tools, [{ type: 'function', function: { name: 'f' } }]);
    assert.equal(body.tool_choice, 'required');
    assert.equal('max_completion_tokens' in body, false);
  });

  it("passes an exception thrown by the caller's onText through untouched, closing the request", async () => {
    handler = (_req, res) => {
      startSse(res);
      send(res, chunk({ content: 'a' }));
    };
    const e = await engine();
    const mine = new Error('consumer failed');
    await assert.rejects(
      e.generate({
        ...hello,
        onText: () => {
          throw mine;
        },
      }),
      (err: unknown) => err === mine,
    );
    assert.equal(await closedWithin(seen[0]!, 5000), true);
  });

  it('fails a reply in flight with engine_unavailable when the engine is disposed, and later calls too', async () => {
    handler = (_req, res) => {
      startSse(res);
      send(res, chunk({ content: 'a' }));
    };
    const e = await engine();
    const pending = e.generate({ ...hello, onText: () => void e.dispose() });
    await assert.rejects(pending, (err: unknown) => isApiError(err) && err.code === 'engine_unavailable');
    await assert.rejects(e.generate(hello), (err: unknown) => isApiError(err) && err.code === 'engine_unavailable');
    assert.equal(await closedWithin(seen[0]!, 5000), true);
  });

  it('estimates tokens as characters / 4', async () => {
    const e = await engine();
    assert.equal(await e.countTokens('12345678'), 2);
    assert.equal(await e.countTokens('123456789'), 3);
  });
});
