/** One server-sent event: `data: <payload>` (objects JSON-encoded; strings such as `[DONE]` as they are). */
export function sseData(data: unknown): string {
  return `data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`;
}

/**
 * Server-sent events fed from callbacks: work that runs beside the response pushes events as
 * they happen, the response reads them in order. One per streamed response.
 */
export class SseQueue {
  private readonly pending: string[] = [];
  private wake: (() => void) | undefined;
  private closed = false;

  /** Queues one `data:` event. */
  push(data: unknown): void {
    this.pending.push(sseData(data));
    this.wake?.();
  }

  /** No more events after those queued. */
  close(): void {
    this.closed = true;
    this.wake?.();
  }

  /** The events, in order, until `close()`. */
  async *events(): AsyncGenerator<string> {
    for (;;) {
      while (this.pending.length > 0) yield this.pending.shift()!;
      if (this.closed) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
  }
}
