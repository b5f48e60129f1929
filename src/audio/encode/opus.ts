/**
 * Ogg Opus (RFC 7845) in-process: libopus through opusscript (WASM, loaded on first use) for the
 * packets, our Ogg writer for the pages. 24 kHz input is one of Opus's native rates; each packet
 * holds one 20 ms frame (480 samples). Granule positions count 48 kHz samples, as RFC 7845 §4 says.
 */
import { randomInt } from 'node:crypto';
import { ApiError } from '../../errors.js';
import { floatToInt16 } from '../pcm.js';
import { OUTPUT_SAMPLE_RATE } from '../types.js';
import { EncoderBase, type EncoderBaseOptions } from './base.js';
import { OggPageWriter } from './ogg.js';

/** Bit rate, bit/s (VBR target). */
export const OPUS_BITRATE = 48_000;
/** Samples per frame at 24 kHz (20 ms). */
const FRAME = 480;
/** Granule units (48 kHz samples) per input sample. */
const GRANULE_PER_SAMPLE = 48_000 / OUTPUT_SAMPLE_RATE;
/**
 * Encoder delay to skip at playback, in 48 kHz samples: libopus's lookahead (2.5 ms + 4 ms delay
 * compensation), which is what `opusenc` writes after asking OPUS_GET_LOOKAHEAD.
 */
export const OPUS_PRE_SKIP = 312;
/** Packets per page when not streaming (1 s of audio). */
const PACKETS_PER_PAGE = 50;
const OPUS_SET_BITRATE = 4002;

interface Opus {
  encode(pcm: Buffer, frameSize: number): Buffer;
  encoderCTL(ctl: number, arg: number): void;
  delete(): void;
}

export class OpusEncoder extends EncoderBase {
  readonly contentType = 'audio/opus';
  private readonly streaming: boolean;
  private opus: Opus | null = null;
  private readonly ogg = new OggPageWriter(randomInt(0, 0xffffffff));
  /** Samples of an incomplete frame, waiting for more. */
  private readonly frame = new Int16Array(FRAME);
  private frameFill = 0;
  private samplesIn = 0;
  private packets = 0;

  constructor(opts: EncoderBaseOptions & { streaming?: boolean } = {}) {
    super(opts);
    this.streaming = opts.streaming ?? false;
  }

  protected async encode(samples: Float32Array): Promise<Uint8Array> {
    const opus = await this.load();
    const pcm = floatToInt16(samples);
    this.samplesIn += pcm.length;
    let at = 0;
    while (at < pcm.length) {
      const n = Math.min(FRAME - this.frameFill, pcm.length - at);
      this.frame.set(pcm.subarray(at, at + n), this.frameFill);
      this.frameFill += n;
      at += n;
      if (this.frameFill === FRAME) this.encodeFrame(opus, null);
    }
    // Streaming: hand out what is encoded now rather than waiting for a full page.
    if (this.streaming) this.ogg.flushPage();
    return this.ogg.take();
  }

  protected async finish(): Promise<Uint8Array> {
    const opus = await this.load();
    // Encode zeros past the end until the encoder's lookahead has come out too.
    const endGranule = BigInt(OPUS_PRE_SKIP + this.samplesIn * GRANULE_PER_SAMPLE);
    const needed = Math.ceil((this.samplesIn + OPUS_PRE_SKIP / GRANULE_PER_SAMPLE) / FRAME);
    while (this.packets < needed) {
      this.frame.fill(0, this.frameFill);
      this.frameFill = FRAME;
      this.encodeFrame(opus, this.packets + 1 === needed ? endGranule : null);
    }
    // The last page's granule below the decoded length tells players to drop the padding.
    this.ogg.flushPage({ eos: true });
    return this.ogg.take();
  }

  protected override release(): void {
    this.opus?.delete();
    this.opus = null;
  }

  private encodeFrame(opus: Opus, granule: bigint | null): void {
    const bytes = Buffer.from(this.frame.buffer, this.frame.byteOffset, FRAME * 2);
    const packet = opus.encode(bytes, FRAME);
    this.frameFill = 0;
    this.packets++;
    this.ogg.addPacket(packet, granule ?? BigInt(this.packets * FRAME * GRANULE_PER_SAMPLE));
    if (this.ogg.pendingPackets >= PACKETS_PER_PAGE) this.ogg.flushPage();
  }

  private async load(): Promise<Opus> {
    if (this.opus) return this.opus;
    const { default: OpusScript } = await import('opusscript');
    if (this.opus) return this.opus;
    if (this.aborted) throw ApiError.cancelled(); // abort() ran while loading: create nothing to leak
    const opus = new OpusScript(OUTPUT_SAMPLE_RATE, 1, OpusScript.Application.AUDIO);
    opus.encoderCTL(OPUS_SET_BITRATE, OPUS_BITRATE);
    this.opus = opus;
    // The identification and comment headers, each on a page of its own (RFC 7845 §3).
    this.ogg.addPacket(opusHead(), 0);
    this.ogg.flushPage();
    this.ogg.addPacket(opusTags(), 0);
    this.ogg.flushPage();
    return opus;
  }
}

/** Identification header (RFC 7845 §5.1): mono, mapping family 0. */
function opusHead(): Uint8Array {
  const h = new Uint8Array(19);
  const v = new DataView(h.buffer);
  h.set(Buffer.from('OpusHead', 'ascii'), 0);
  h[8] = 1; // version
  h[9] = 1; // channels
  v.setUint16(10, OPUS_PRE_SKIP, true);
  v.setUint32(12, OUTPUT_SAMPLE_RATE, true); // original input rate, informational
  v.setInt16(16, 0, true); // output gain
  h[18] = 0; // channel mapping family
  return h;
}

/** Comment header (RFC 7845 §5.2): vendor string, no user comments. */
function opusTags(): Uint8Array {
  const vendor = Buffer.from('Parley (libopus via opusscript)', 'utf8');
  const h = new Uint8Array(8 + 4 + vendor.length + 4);
  const v = new DataView(h.buffer);
  h.set(Buffer.from('OpusTags', 'ascii'), 0);
  v.setUint32(8, vendor.length, true);
  h.set(vendor, 12);
  v.setUint32(12 + vendor.length, 0, true);
  return h;
}
