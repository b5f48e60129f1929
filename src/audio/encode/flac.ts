/**
 * FLAC, 16-bit mono 24 kHz, through libFLAC (the reference encoder, compression level 5)
 * compiled to WebAssembly (`libflacjs`), in process.
 *
 * FLAC is the archiving format, so the file is always complete: STREAMINFO carries the total
 * sample count, the smallest and largest frame sizes and the MD5 of the audio. libFLAC writes
 * STREAMINFO first and only knows those at the end, and a response cannot seek back: so the
 * encoder holds everything until `end` (whether or not the caller streams) and patches them in.
 * `write` always returns nothing; `end` returns the whole file.
 *
 * Why libFLAC and not our own encoder (fixed predictors + Rice, removed) or ffmpeg (`npm run
 * bench -- encode`, 17 s of speech, one core): libFLAC ~500× real time and 15 % smaller files than
 * ours (~230×, no LPC); ffmpeg needs a process per response and cannot patch STREAMINFO on a pipe.
 */
import { createRequire } from 'node:module';
import { ApiError } from '../../errors.js';
import { concatBytes, floatToInt16 } from '../pcm.js';
import { OUTPUT_SAMPLE_RATE } from '../types.js';
import { EMPTY, EncoderBase, type EncoderBaseOptions } from './base.js';

/** libFLAC's default: LPC up to order 8, block size 4096. */
const COMPRESSION_LEVEL = 5;
/** Samples per `process` call: libflacjs copies each call's input into WASM memory. */
const CHUNK = 16_384;
/** Longest the WASM module may take to instantiate before the format is declared unavailable. */
const LOAD_TIMEOUT_MS = 30_000;

/** The part of libflacjs used here (it ships no types for its CommonJS entry). */
interface LibFlac {
  isReady(): boolean;
  onready?: () => void;
  create_libflac_encoder(sampleRate: number, channels: number, bps: number, level: number, totalSamples: number, verify: boolean, blockSize: number): number;
  init_encoder_stream(
    encoder: number,
    write: (data: Uint8Array, bytes: number, samples: number, frame: number) => void,
    metadata: (info: StreamInfo | undefined) => void,
  ): number;
  FLAC__stream_encoder_process_interleaved(encoder: number, samples: Int32Array, count: number): boolean | number;
  FLAC__stream_encoder_finish(encoder: number): boolean | number;
  FLAC__stream_encoder_get_state(encoder: number): number;
  FLAC__stream_encoder_delete(encoder: number): void;
}

/** What libFLAC reports at the end (libflacjs's names). */
interface StreamInfo {
  min_framesize: number;
  max_framesize: number;
  md5sum: string;
}

let loaded: Promise<LibFlac> | null = null;

/** libflacjs's WASM build, loaded once per process. */
function libFlac(): Promise<LibFlac> {
  loaded ??= new Promise<LibFlac>((resolve, reject) => {
    const require = createRequire(import.meta.url);
    const saved = globalThis.fetch;
    let lib: LibFlac;
    try {
      // Its Emscripten loader fetch()es the .wasm by path when `fetch` exists (Node ≥ 18), which
      // fails for a file path; without `fetch` it reads the file. The check runs synchronously
      // inside `require`, so hiding `fetch` for that call alone affects no other code.
      (globalThis as { fetch?: unknown }).fetch = undefined;
      lib = require('libflacjs/dist/libflac.wasm.js') as LibFlac;
    } finally {
      globalThis.fetch = saved;
    }
    if (lib.isReady()) return resolve(lib);
    const timer = setTimeout(
      () => reject(ApiError.engineUnavailable("The 'flac' format is unavailable: libflacjs did not load (reinstall with `npm ci`).")),
      LOAD_TIMEOUT_MS,
    );
    timer.unref();
    lib.onready = () => {
      clearTimeout(timer);
      resolve(lib);
    };
  });
  loaded.catch(() => {
    loaded = null;
  });
  return loaded;
}

export class FlacEncoder extends EncoderBase {
  readonly contentType = 'audio/flac';
  private lib: LibFlac | null = null;
  private encoder = 0; // libFLAC encoder id; 0 = none
  private opening: Promise<void> | null = null;
  private readonly held: Uint8Array[] = [];
  private totalSamples = 0;
  private info: StreamInfo | null = null;

  /** `streaming` is accepted for uniformity and ignored: FLAC always comes whole at `end`. */
  constructor(opts: EncoderBaseOptions & { streaming?: boolean } = {}) {
    super(opts);
  }

  protected async encode(samples: Float32Array): Promise<Uint8Array> {
    if (samples.length === 0) return EMPTY;
    await this.open();
    for (let at = 0; at < samples.length; at += CHUNK) {
      const pcm = Int32Array.from(floatToInt16(samples.subarray(at, at + CHUNK)));
      if (!this.lib!.FLAC__stream_encoder_process_interleaved(this.encoder, pcm, pcm.length)) throw this.failure('process');
    }
    this.totalSamples += samples.length;
    return EMPTY;
  }

  protected async finish(): Promise<Uint8Array> {
    await this.open();
    if (!this.lib!.FLAC__stream_encoder_finish(this.encoder)) throw this.failure('finish');
    if (!this.info) throw ApiError.internal(new Error('flac encoding failed: libFLAC reported no STREAMINFO'));
    const bytes = concatBytes(this.held);
    this.held.length = 0;
    completeStreamInfo(bytes, { ...this.info, totalSamples: this.totalSamples });
    return bytes;
  }

  protected override release(): void {
    if (this.encoder !== 0) this.lib!.FLAC__stream_encoder_delete(this.encoder);
    this.encoder = 0;
    this.held.length = 0;
  }

  private open(): Promise<void> {
    this.opening ??= libFlac().then((lib) => {
      // Aborted while loading: `release` has run already, so create nothing.
      if (this.aborted) throw ApiError.cancelled();
      this.lib = lib;
      const encoder = lib.create_libflac_encoder(OUTPUT_SAMPLE_RATE, 1, 16, COMPRESSION_LEVEL, 0, false, 0);
      if (encoder === 0) throw ApiError.internal(new Error('flac encoding failed: libFLAC could not create an encoder'));
      this.encoder = encoder;
      const status = lib.init_encoder_stream(
        encoder,
        (data) => this.held.push(data), // libflacjs hands over a copy
        (info) => {
          if (info) this.info = info;
        },
      );
      if (status !== 0) throw this.failure(`init (status ${status})`);
    });
    return this.opening;
  }

  private failure(what: string): ApiError {
    const state = this.encoder !== 0 ? this.lib?.FLAC__stream_encoder_get_state(this.encoder) : undefined;
    return ApiError.internal(new Error(`flac encoding failed: ${what}${state === undefined ? '' : ` (encoder state ${state})`}`));
  }
}

/**
 * Writes the final values into the STREAMINFO block that opens `file` ("fLaC", then STREAMINFO
 * as the first metadata block: https://xiph.org/flac/format.html#metadata_block_streaminfo).
 */
export function completeStreamInfo(file: Uint8Array, p: { min_framesize: number; max_framesize: number; md5sum: string; totalSamples: number }): void {
  const magic = String.fromCharCode(...file.subarray(0, 4));
  const length = (file[5]! << 16) | (file[6]! << 8) | file[7]!;
  if (magic !== 'fLaC' || (file[4]! & 0x7f) !== 0 || length !== 34) throw ApiError.internal(new Error('flac encoding failed: no STREAMINFO at the start'));
  const at = 8; // the STREAMINFO body
  const put24 = (o: number, v: number): void => {
    file[at + o] = (v >>> 16) & 0xff;
    file[at + o + 1] = (v >>> 8) & 0xff;
    file[at + o + 2] = v & 0xff;
  };
  put24(4, p.min_framesize);
  put24(7, p.max_framesize);
  // Total samples: 36 bits, from the low nibble of body byte 13 on (0 = unknown past 2^36).
  const total = p.totalSamples < 2 ** 36 ? p.totalSamples : 0;
  file[at + 13] = (file[at + 13]! & 0xf0) | Math.floor(total / 2 ** 32);
  new DataView(file.buffer, file.byteOffset).setUint32(at + 14, total % 2 ** 32);
  const md5 = Buffer.from(p.md5sum, 'hex');
  if (md5.length !== 16) throw ApiError.internal(new Error(`flac encoding failed: bad MD5 '${p.md5sum}'`));
  file.set(md5, at + 18);
}
