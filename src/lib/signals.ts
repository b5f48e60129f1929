/**
 * Abort signals that follow other signals. `AbortSignal.any` is not used anywhere in Parley: on
 * Node 20 every call leaves its result reachable from the source signals for as long as they live
 * (a long-lived shutdown signal collected ~2 KB per request: 100 k requests grew the heap by
 * ~205 MB). A linked signal here holds one listener per source and drops them on `dispose`.
 */

/** A signal that aborts when any source aborts (with that source's reason) or on `abort()`. */
export interface LinkedSignal {
  readonly signal: AbortSignal;
  /** Aborts the linked signal itself (not the sources). */
  abort(reason?: unknown): void;
  /** Detaches from the sources; call when the work the signal guards is over. Idempotent. */
  dispose(): void;
}

/** Links a new signal to `sources` (undefined entries are skipped). */
export function linkSignals(...sources: Array<AbortSignal | undefined>): LinkedSignal {
  const controller = new AbortController();
  const attached: Array<[AbortSignal, () => void]> = [];
  const dispose = () => {
    for (const [source, listener] of attached) source.removeEventListener('abort', listener);
    attached.length = 0;
  };
  for (const source of sources) {
    if (!source) continue;
    if (source.aborted) {
      controller.abort(source.reason);
      break;
    }
    const listener = () => {
      controller.abort(source.reason);
      dispose();
    };
    source.addEventListener('abort', listener, { once: true });
    attached.push([source, listener]);
  }
  if (controller.signal.aborted) dispose();
  return {
    signal: controller.signal,
    abort: (reason) => {
      controller.abort(reason);
      dispose();
    },
    dispose,
  };
}

/** The reason of an aborted signal as an Error-like value (DOMException AbortError when none was given). */
export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}
