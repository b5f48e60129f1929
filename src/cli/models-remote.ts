/**
 * `parley models pull NAME --url URL`: the pull runs on a server (its model admin endpoint,
 * `POST /v1/parley/models/{name}/pull`, the one the playground's Models page uses) and this
 * process shows the progress it streams. Ctrl-C stops the server's download too
 * (`DELETE …/pull`); what was downloaded is kept there, and pulling again resumes.
 */

/** What the server reports when a pull has finished. */
export interface RemotePullResult {
  /** Files downloaded now. */
  downloaded: string[];
  /** Files already present and verified. */
  skipped: string[];
  /** Bytes received over the network by the server. */
  transferred: number;
}

export interface RemotePullOptions {
  /** The server, e.g. `http://127.0.0.1:8000`. */
  url: string;
  /** An admin API key, when the server has keys. */
  key?: string;
  /** The catalogue name. */
  name: string;
  /** Bytes on the server's disk so far, out of the total. */
  onProgress?: (done: number, total: number | null, file: string) => void;
  /** Stops following and asks the server to stop the download. */
  signal?: AbortSignal;
}

interface WireEvent {
  status?: 'downloading' | 'completed';
  bytes_done?: number;
  bytes_total?: number | null;
  file?: string;
  downloaded?: string[];
  skipped?: string[];
  transferred_bytes?: number;
  error?: { message?: string; code?: string | null };
}

/** An error the server answered, with its code. */
export class RemotePullError extends Error {
  constructor(
    message: string,
    /** OpenAI-style error code (`model_not_found`, `engine_unavailable`, `request_cancelled` …). */
    readonly code: string | null,
  ) {
    super(message);
    this.name = 'RemotePullError';
  }
}

function headers(key: string | undefined): Record<string, string> {
  return key ? { authorization: `Bearer ${key}` } : {};
}

/** Pulls `name` on the server at `url`, reporting progress until it is done. */
export async function pullOnServer(options: RemotePullOptions): Promise<RemotePullResult> {
  const base = options.url.replace(/\/+$/, '');
  const endpoint = `${base}/v1/parley/models/${encodeURIComponent(options.name)}/pull`;
  const follow = new AbortController();
  const onAbort = (): void => {
    follow.abort();
    // Stop the download itself, not just our view of it.
    void fetch(endpoint, { method: 'DELETE', headers: headers(options.key) }).catch(() => {});
  };
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    let res: Response;
    try {
      res = await fetch(endpoint, {
        method: 'POST',
        headers: { ...headers(options.key), 'content-type': 'application/json', accept: 'text/event-stream' },
        body: '{}',
        signal: follow.signal,
      });
    } catch (e) {
      if (options.signal?.aborted) throw interrupted(options.name);
      const cause = (e as Error).cause ? String((e as Error).cause) : (e as Error).message;
      throw new RemotePullError(`cannot reach ${base}: ${cause} (is \`parley serve\` running there?)`, 'connection_error');
    }
    if (!res.ok) {
      const body = (await res.json().catch(() => ({}))) as WireEvent;
      throw new RemotePullError(body.error?.message ?? `the server answered ${res.status}`, body.error?.code ?? null);
    }
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = block
            .split('\n')
            .filter((l) => l.startsWith('data:'))
            .map((l) => l.slice(5).trimStart())
            .join('\n');
          if (data === '' || data === '[DONE]') continue;
          const event = JSON.parse(data) as WireEvent;
          if (event.error) throw new RemotePullError(event.error.message ?? 'the pull failed', event.error.code ?? null);
          options.onProgress?.(event.bytes_done ?? 0, event.bytes_total ?? null, event.file ?? '');
          if (event.status === 'completed') {
            return { downloaded: event.downloaded ?? [], skipped: event.skipped ?? [], transferred: event.transferred_bytes ?? 0 };
          }
        }
      }
    } catch (e) {
      if (options.signal?.aborted) throw interrupted(options.name);
      throw e;
    }
    throw new RemotePullError('the server ended the stream before the pull finished', null);
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
}

function interrupted(name: string): RemotePullError {
  return new RemotePullError(
    `Interrupted: the server stopped downloading ${name}. What was downloaded is kept there: pull again to resume.`,
    'request_cancelled',
  );
}
