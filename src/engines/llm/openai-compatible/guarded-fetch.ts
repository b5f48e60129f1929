/**
 * The fetch the `openai` SDK is given: the SDK does HTTP, SSE, retries and typed errors; this
 * adds what it lacks, below it, where its retry logic sees the result:
 * - an idle timeout between body chunks (the SDK's `timeout` ends when the response starts);
 * - the first bytes of the body are awaited here, inside the SDK's fetch, so a response that
 *   dies or stays silent before sending anything is retried like a failed connection. Once the
 *   body has started the SDK never retries, so no text reaches `onText` twice;
 * - a `retry-after` longer than `maxRetryAfterMs` becomes `x-should-retry: false` (the SDK would
 *   wait any time it is told, holding the request and its limiter slot);
 * - error bodies in OpenAI's `{"error": {"message", …}}` shape whatever the server sent (vLLM's
 *   top-level fields, Ollama's `{"error": "…"}`, plain text), so the upstream's message of a 400
 *   can reach the client;
 * - a server that ignored `stream: true` and sent one JSON completion is reframed as one event.
 */

/** No body bytes for `ms`: the message matches the SDK's timeout test (`/timed? ?out/`). */
export class UpstreamIdleTimeout extends Error {
  constructor(ms: number) {
    super(`upstream timed out: no data for ${ms} ms`);
    this.name = 'UpstreamIdleTimeout';
  }
}

export function guardedFetch(base: typeof fetch, idleTimeoutMs: number, maxRetryAfterMs: number): typeof fetch {
  return async (input, init) => {
    const response = await base(input, init);
    const headers = new Headers(response.headers);
    const init2 = { status: response.status, statusText: response.statusText, headers };
    if (!response.body) return new Response(null, init2);
    const reader = response.body.getReader();
    let first: ReadableStreamReadResult<Uint8Array> | undefined = await readWithin(reader, idleTimeoutMs);
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const next = first ?? (await readWithin(reader, idleTimeoutMs));
        first = undefined;
        if (next.done) controller.close();
        else controller.enqueue(next.value);
      },
      cancel: (reason) => reader.cancel(reason),
    });
    if (!response.ok) {
      if (retryAfterMs(headers) > maxRetryAfterMs) headers.set('x-should-retry', 'false');
      headers.set('content-type', 'application/json');
      return new Response(openAiErrorBody(await new Response(body).text()), init2);
    }
    if (init?.method === 'POST' && headers.get('content-type')?.includes('application/json')) {
      // JSON allows raw line breaks only as whitespace, so spaces keep it one SSE data line.
      headers.set('content-type', 'text/event-stream');
      return new Response(`data: ${(await new Response(body).text()).replace(/[\r\n]+/g, ' ')}\n\n`, init2);
    }
    return new Response(body, init2);
  };
}

/** One read, or UpstreamIdleTimeout (and the body cancelled, which closes the connection). */
async function readWithin(reader: ReadableStreamDefaultReader<Uint8Array>, ms: number): Promise<ReadableStreamReadResult<Uint8Array>> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      // Rejected first: cancelling ends the pending read with `done`, which must not win the race.
      const error = new UpstreamIdleTimeout(ms);
      reject(error);
      reader.cancel(error).catch(() => undefined);
    }, ms);
  });
  try {
    return await Promise.race([reader.read(), timeout]);
  } catch (e) {
    reader.cancel(e).catch(() => undefined);
    throw e;
  } finally {
    clearTimeout(timer);
  }
}

/** What `retry-after-ms` / `retry-after` (seconds or a date) ask for, read as the SDK reads them; NaN when absent. */
function retryAfterMs(headers: Headers): number {
  const ms = Number.parseFloat(headers.get('retry-after-ms') ?? '');
  if (!Number.isNaN(ms)) return ms;
  const value = headers.get('retry-after') ?? '';
  const seconds = Number.parseFloat(value);
  return Number.isNaN(seconds) ? Date.parse(value) - Date.now() : seconds * 1000;
}

function openAiErrorBody(text: string): string {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = { message: text.trim().slice(0, 500) };
  }
  const top = (typeof body === 'object' && body !== null ? body : {}) as { error?: unknown };
  return JSON.stringify({ error: typeof top.error === 'string' ? { message: top.error } : (top.error ?? top) });
}
