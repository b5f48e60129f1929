/**
 * A small energy-based voice activity detector for the hands-free mode: enough to cut a
 * conversation into turns in a quiet room, with no model to download (the server runs Silero on
 * what it receives anyway). Frames of ~30 ms are compared with a noise floor that follows the
 * quietest recent level; speech is a level well above it, for long enough. No DOM: unit-tested.
 */

export interface VadOptions {
  sampleRate: number;
  /** Analysis frame, ms. */
  frameMs?: number;
  /** Speech must last this long before a turn starts, ms. */
  startMs?: number;
  /** Silence this long ends a turn, ms. */
  endSilenceMs?: number;
  /** Audio kept from before the start (the first syllable's onset), ms. */
  preRollMs?: number;
  /** Shorter turns are dropped as noise (a click, a cough), ms. */
  minSpeechMs?: number;
  /** A turn is cut here even without a pause, ms. */
  maxMs?: number;
  /** Speech is this many dB above the noise floor. */
  thresholdDb?: number;
  /** Never speech below this level, dBFS. */
  minLevelDb?: number;
}

export type VadEvent = { type: 'start' } | { type: 'end'; audio: Float32Array } | { type: 'discard' };

/** Level of a frame in dBFS. */
export function levelDb(frame: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < frame.length; i++) sum += frame[i]! * frame[i]!;
  const rms = Math.sqrt(sum / Math.max(1, frame.length));
  return 20 * Math.log10(rms + 1e-9);
}

export class EnergyVad {
  private readonly frameLen: number;
  private readonly o: Required<VadOptions>;
  private buffer = new Float32Array(0);
  private noiseDb = -60;
  private speechRun = 0;
  private silenceRun = 0;
  private inSpeech = false;
  /** Recent frames kept for the pre-roll. */
  private history: Float32Array[] = [];
  private turn: Float32Array[] = [];
  private turnSpeechFrames = 0;
  /** The level of the last frame, for a meter. */
  lastLevelDb = -100;

  constructor(options: VadOptions) {
    this.o = {
      frameMs: 30,
      startMs: 120,
      endSilenceMs: 700,
      preRollMs: 300,
      minSpeechMs: 250,
      maxMs: 30_000,
      thresholdDb: 12,
      minLevelDb: -50,
      ...options,
    };
    this.frameLen = Math.round((this.o.sampleRate * this.o.frameMs) / 1000);
  }

  /** True while a turn is open. */
  get speaking(): boolean {
    return this.inSpeech;
  }

  /** Feeds samples; returns what happened (a turn started, ended with its audio, or was dropped). */
  push(samples: Float32Array): VadEvent[] {
    const joined = new Float32Array(this.buffer.length + samples.length);
    joined.set(this.buffer);
    joined.set(samples, this.buffer.length);
    const events: VadEvent[] = [];
    let offset = 0;
    for (; offset + this.frameLen <= joined.length; offset += this.frameLen) {
      const frame = joined.slice(offset, offset + this.frameLen);
      const e = this.frame(frame);
      if (e) events.push(e);
    }
    this.buffer = joined.slice(offset);
    return events;
  }

  /** Ends an open turn now (the user stopped hands-free mode mid-sentence). */
  flush(): VadEvent[] {
    if (!this.inSpeech) return [];
    return [this.close()];
  }

  private frame(frame: Float32Array): VadEvent | undefined {
    const db = levelDb(frame);
    this.lastLevelDb = db;
    // The floor drops fast to quiet and rises slowly, so speech never becomes "noise".
    this.noiseDb = db < this.noiseDb ? 0.7 * this.noiseDb + 0.3 * db : this.noiseDb + Math.min(0.1, db - this.noiseDb);
    const voiced = db > this.noiseDb + this.o.thresholdDb && db > this.o.minLevelDb;
    const frameMs = this.o.frameMs;

    if (!this.inSpeech) {
      this.history.push(frame);
      const keep = Math.ceil(this.o.preRollMs / frameMs) + Math.ceil(this.o.startMs / frameMs);
      if (this.history.length > keep) this.history.shift();
      this.speechRun = voiced ? this.speechRun + 1 : 0;
      if (this.speechRun * frameMs >= this.o.startMs) {
        this.inSpeech = true;
        this.turn = [...this.history];
        this.history = [];
        this.turnSpeechFrames = this.speechRun;
        this.silenceRun = 0;
        return { type: 'start' };
      }
      return undefined;
    }

    this.turn.push(frame);
    if (voiced) {
      this.turnSpeechFrames++;
      this.silenceRun = 0;
    } else {
      this.silenceRun++;
    }
    if (this.silenceRun * frameMs >= this.o.endSilenceMs || this.turn.length * frameMs >= this.o.maxMs) return this.close();
    return undefined;
  }

  private close(): VadEvent {
    this.inSpeech = false;
    this.speechRun = 0;
    const frames = this.turn;
    this.turn = [];
    if (this.turnSpeechFrames * this.o.frameMs < this.o.minSpeechMs) return { type: 'discard' };
    // Keep a little of the trailing silence, not all of it.
    const trailing = Math.max(0, this.silenceRun - Math.ceil(200 / this.o.frameMs));
    const kept = frames.slice(0, frames.length - trailing);
    const audio = new Float32Array(kept.reduce((n, f) => n + f.length, 0));
    let o = 0;
    for (const f of kept) {
      audio.set(f, o);
      o += f.length;
    }
    this.silenceRun = 0;
    return { type: 'end', audio };
  }
}
