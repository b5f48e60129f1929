/**
 * MP3: MPEG-2 Layer III, 24 kHz mono, CBR 64 kbit/s, bare frames (576 samples each; no ID3 tag,
 * no Xing/LAME header). LAME 3.100 compiled to WebAssembly (`wasm-media-encoders`), in process:
 * no child per response, and frames come out of `write` as soon as LAME completes them.
 *
 * Measured (`npm run bench -- encode`, 17 s of speech, one core): ~130× real time, against ~16×
 * for lamejs (pure JS) and ~96× CPU for ffmpeg's libmp3lame, which also costs a process spawn per
 * response (~30 ms CPU, ~100 ms wall under load) and a pipe round trip per sentence.
 *
 * The WASM module is compiled once per process; instances (each with its own linear memory, LAME
 * state ~1 MB of it touched) are kept in a small idle pool and reset with `configure` for the
 * next response, so a busy server does not instantiate one per request.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { WasmMediaEncoder } from 'wasm-media-encoders';
import { ApiError } from '../../errors.js';
import { concatBytes } from '../pcm.js';
import { OUTPUT_SAMPLE_RATE } from '../types.js';
import { EMPTY, EncoderBase, type EncoderBaseOptions } from './base.js';

/** Bit rate, kbit/s: plenty for speech at 24 kHz (MPEG-2 allows 8–160). */
export const MP3_KBPS = 64;
/**
 * Samples handed to LAME per call. The wrapper sizes its input and output buffers in WASM memory
 * for the largest call, and that memory never shrinks: one second keeps a pooled instance small.
 */
const CHUNK = OUTPUT_SAMPLE_RATE;
/** Idle instances kept for reuse; more than this are dropped (and garbage-collected). */
const MAX_IDLE = 4;

type Lame = WasmMediaEncoder<'audio/mpeg'>;

let compiled: Promise<{ module: WebAssembly.Module; create: typeof import('wasm-media-encoders').createEncoder }> | null = null;
const idle: Lame[] = [];

/** Compiles the LAME WASM once per process (from the package's own file: no network). */
function lameModule(): NonNullable<typeof compiled> {
  compiled ??= (async () => {
    const { createEncoder } = await import('wasm-media-encoders');
    const file = createRequire(import.meta.url).resolve('wasm-media-encoders/wasm/mp3');
    const module = await WebAssembly.compile(await readFile(file));
    return { module, create: createEncoder };
  })();
  compiled.catch(() => {
    compiled = null; // try again next time rather than failing forever
  });
  return compiled;
}

/** A LAME instance configured for a new stream: an idle one when there is one. */
async function takeLame(): Promise<Lame> {
  let lame = idle.pop();
  if (!lame) {
    const { module, create } = await lameModule();
    lame = await create('audio/mpeg', module);
  }
  lame.configure({ channels: 1, sampleRate: OUTPUT_SAMPLE_RATE, bitrate: MP3_KBPS, outputSampleRate: OUTPUT_SAMPLE_RATE });
  return lame;
}

/** Instances in the idle pool (tests). */
export function idleMp3Instances(): number {
  return idle.length;
}

export class Mp3Encoder extends EncoderBase {
  readonly contentType = 'audio/mpeg';
  private lame: Lame | null = null;
  private loading: Promise<Lame> | null = null;
  /** False once LAME threw: an instance in an unknown state is not reused. */
  private healthy = true;

  constructor(opts: EncoderBaseOptions = {}) {
    super(opts);
  }

  protected async encode(samples: Float32Array): Promise<Uint8Array> {
    if (samples.length === 0) return EMPTY;
    const lame = await this.load();
    const out: Uint8Array[] = [];
    for (let at = 0; at < samples.length; at += CHUNK) {
      // The returned bytes are a view of LAME's output buffer: copy before the next call.
      const bytes = this.guard(() => lame.encode([samples.subarray(at, at + CHUNK)]));
      if (bytes.length > 0) out.push(bytes.slice());
    }
    return out.length === 0 ? EMPTY : out.length === 1 ? out[0]! : concatBytes(out);
  }

  protected async finish(): Promise<Uint8Array> {
    const lame = await this.load();
    return this.guard(() => lame.finalize()).slice();
  }

  protected override release(): void {
    // `configure` on the next take resets whatever state this stream left, aborted or not.
    if (this.lame && this.healthy && idle.length < MAX_IDLE) idle.push(this.lame);
    this.lame = null;
  }

  private load(): Promise<Lame> {
    this.loading ??= takeLame().then((lame) => {
      if (this.aborted) {
        if (idle.length < MAX_IDLE) idle.push(lame);
        throw ApiError.cancelled();
      }
      this.lame = lame;
      return lame;
    });
    return this.loading;
  }

  private guard(run: () => Uint8Array): Uint8Array {
    try {
      return run();
    } catch (e) {
      this.healthy = false;
      throw ApiError.internal(new Error('mp3 encoding failed', { cause: e }));
    }
  }
}
