/**
 * Admission of live requests that cause engine work: at most `maxInFlight` at once, so a surge
 * queues only as much work as the server can finish in reasonable time, and everything past that
 * is turned away at the door (503 with `retry-after`) instead of piling up until memory or
 * latency collapse. Batch lines are not counted: they are paced by the batch worker and queue
 * behind live work in the limiter.
 */

/** A snapshot for /health and metrics. */
export interface AdmissionStats {
  inFlight: number;
  maxInFlight: number;
  /** Requests turned away since start. */
  rejected: number;
  /** Smoothed duration of an admitted request, seconds (0 before the first one ends). */
  avgRequestSec: number;
  /** inFlight / maxInFlight, 0–1. */
  saturation: number;
}

export class Admission {
  private inFlight = 0;
  private rejected = 0;
  private avgSec = 0;

  constructor(readonly maxInFlight: number) {
    if (!Number.isInteger(maxInFlight) || maxInFlight < 1) throw new RangeError('maxInFlight must be a positive integer');
  }

  /**
   * Takes a place, or returns undefined when every place is taken (the caller answers 503). The
   * returned function gives the place back; calling it twice is harmless.
   */
  tryEnter(): (() => void) | undefined {
    if (this.inFlight >= this.maxInFlight) {
      this.rejected++;
      return undefined;
    }
    this.inFlight++;
    const start = performance.now();
    let left = false;
    return () => {
      if (left) return;
      left = true;
      this.inFlight--;
      const sec = (performance.now() - start) / 1000;
      this.avgSec = this.avgSec === 0 ? sec : 0.9 * this.avgSec + 0.1 * sec;
    };
  }

  /**
   * When to come back, seconds: about the time for the requests in flight to drain enough for one
   * more (an average request's duration), at least 1, at most 60.
   */
  retryAfterSec(): number {
    return Math.min(60, Math.max(1, Math.ceil(this.avgSec || 1)));
  }

  stats(): AdmissionStats {
    return {
      inFlight: this.inFlight,
      maxInFlight: this.maxInFlight,
      rejected: this.rejected,
      avgRequestSec: Math.round(this.avgSec * 1000) / 1000,
      saturation: this.inFlight / this.maxInFlight,
    };
  }
}
