/**
 * Plays 16-bit PCM as it arrives, through Web Audio: each slice is scheduled right after the
 * previous one, so playback starts with the first slice and has no gaps while slices keep up.
 */

let shared: AudioContext | undefined;

/** The page's one output context, created (and resumed) on a user gesture. */
export function outputContext(): AudioContext {
  shared ??= new AudioContext({ latencyHint: 'interactive' });
  if (shared.state === 'suspended') void shared.resume();
  return shared;
}

/** How much audio is buffered before the first slice plays: absorbs network jitter. */
const LEAD_SEC = 0.08;

export class PcmPlayer {
  private nextTime = 0;
  private readonly sources = new Set<AudioBufferSourceNode>();
  private ended = false;
  private stopped = false;
  private done: Promise<void>;
  private resolveDone!: () => void;
  private carry: Uint8Array | undefined;
  /** Seconds of audio scheduled so far. */
  scheduledSec = 0;

  constructor(
    private readonly context: AudioContext = outputContext(),
    private readonly sampleRate = 24_000,
  ) {
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
  }

  /** Queues little-endian s16 mono bytes (a slice may split a sample: the odd byte is kept). */
  push(bytes: Uint8Array): void {
    if (this.stopped) return;
    let data = bytes;
    if (this.carry) {
      data = new Uint8Array(this.carry.length + bytes.length);
      data.set(this.carry);
      data.set(bytes, this.carry.length);
      this.carry = undefined;
    }
    if (data.length % 2 === 1) {
      this.carry = data.slice(-1);
      data = data.subarray(0, data.length - 1);
    }
    const n = data.length / 2;
    if (n === 0) return;
    const view = new DataView(data.buffer, data.byteOffset, data.length);
    const buffer = this.context.createBuffer(1, n, this.sampleRate);
    const channel = buffer.getChannelData(0);
    for (let i = 0; i < n; i++) channel[i] = view.getInt16(i * 2, true) / 0x8000;
    const source = this.context.createBufferSource();
    source.buffer = buffer;
    source.connect(this.context.destination);
    const at = Math.max(this.context.currentTime + LEAD_SEC, this.nextTime);
    source.start(at);
    this.nextTime = at + buffer.duration;
    this.scheduledSec += buffer.duration;
    this.sources.add(source);
    source.onended = () => {
      this.sources.delete(source);
      this.settle();
    };
  }

  /** No more slices: `played()` resolves once everything queued has been heard. */
  end(): void {
    this.ended = true;
    this.settle();
  }

  /** Resolves when playback has finished (or was stopped). */
  played(): Promise<void> {
    return this.done;
  }

  stop(): void {
    this.stopped = true;
    for (const s of this.sources) {
      s.onended = null;
      try {
        s.stop();
      } catch {
        // never started
      }
    }
    this.sources.clear();
    this.resolveDone();
  }

  private settle(): void {
    if (this.ended && this.sources.size === 0) this.resolveDone();
  }
}
