import { ApiError } from '../../errors.js';
import type { AudioEncoder } from '../types.js';

/** Shared empty result, so encoders with nothing to say allocate nothing. */
export const EMPTY = new Uint8Array(0);

/** Options every encoder takes. */
export interface EncoderBaseOptions {
  /**
   * Aborts the encoder (as `abort()`) when it fires, so that an encoder whose owner is gone (a
   * client that left before the first byte was pulled) still ends its child process at once.
   */
  signal?: AbortSignal;
}

/**
 * Lifecycle shared by every encoder: `write`* then `end`, or `abort` at any time.
 * Subclasses implement `encode`, `finish` and `release`; this class guarantees that `release`
 * runs exactly once (after `finish`, or on `abort`) and that no call follows the end.
 */
export abstract class EncoderBase implements AudioEncoder {
  abstract readonly contentType: string;
  private state: 'open' | 'ending' | 'ended' | 'aborted' = 'open';
  private released = false;
  private detach: (() => void) | null = null;

  constructor(opts: EncoderBaseOptions = {}) {
    const signal = opts.signal;
    if (!signal) return;
    if (signal.aborted) {
      // Nothing has been acquired yet (and subclass fields are not initialised): just refuse all use.
      this.state = 'aborted';
      this.released = true;
      return;
    }
    const onAbort = (): void => this.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    // Removed on release: a long-lived signal must not keep every finished encoder alive.
    this.detach = () => signal.removeEventListener('abort', onAbort);
  }

  async write(samples: Float32Array): Promise<Uint8Array> {
    this.assertOpen('write');
    const bytes = await this.encode(samples);
    if (this.aborted) throw ApiError.cancelled();
    return bytes;
  }

  async end(): Promise<Uint8Array> {
    this.assertOpen('end');
    this.state = 'ending';
    try {
      const last = await this.finish();
      if (this.aborted) throw ApiError.cancelled();
      return last;
    } finally {
      if (this.state === 'ending') this.state = 'ended';
      this.releaseOnce();
    }
  }

  abort(): void {
    // Also while `end` is pending: a slow flush (ffmpeg) must not outlive the client.
    if (this.state !== 'open' && this.state !== 'ending') return;
    this.state = 'aborted';
    this.releaseOnce();
  }

  /** True once `abort` was called before `end` completed. */
  protected get aborted(): boolean {
    return this.state === 'aborted';
  }

  /** Encode more samples (any count, 0 included); returns the bytes ready now. */
  protected abstract encode(samples: Float32Array): Uint8Array | Promise<Uint8Array>;
  /** Flush everything; returns the last bytes. */
  protected abstract finish(): Uint8Array | Promise<Uint8Array>;
  /** Free native resources or processes. */
  protected release(): void {}

  private releaseOnce(): void {
    if (this.released) return;
    this.released = true;
    this.detach?.();
    this.detach = null;
    this.release();
  }

  private assertOpen(what: string): void {
    if (this.state === 'aborted') throw ApiError.cancelled();
    // Writing after the end is a bug in the caller, not a client error.
    if (this.state !== 'open') throw new Error(`AudioEncoder: ${what} after end`);
  }
}
