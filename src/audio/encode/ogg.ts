/**
 * A minimal Ogg page writer (RFC 3533) for one logical stream: packets in, pages out.
 * Packets larger than a page's 255 lacing values are continued on the next page.
 */
import { concatBytes } from '../pcm.js';

/** Page header flags (RFC 3533 §6). */
const CONTINUED = 0x01;
const BOS = 0x02;
const EOS = 0x04;
/** Granule position of a page on which no packet ends. */
const NO_GRANULE = -1n;

export class OggPageWriter {
  private readonly serial: number;
  private sequence = 0;
  private lacing: number[] = [];
  private body: Uint8Array[] = [];
  private granule = NO_GRANULE;
  private lastGranule = NO_GRANULE;
  private continued = false;
  private packetsOnPage = 0;
  private readonly ready: Uint8Array[] = [];
  private eosWritten = false;

  /** `serial` identifies the logical stream (random per stream, RFC 3533 §6). */
  constructor(serial: number) {
    this.serial = serial >>> 0;
  }

  /** Packets that end on the page being filled. */
  get pendingPackets(): number {
    return this.packetsOnPage;
  }

  /** Append a packet; `granule` is the granule position after it (codec-specific units). */
  addPacket(packet: Uint8Array, granule: bigint | number): void {
    if (this.eosWritten) throw new Error('OggPageWriter: packet after end of stream');
    let at = 0;
    for (;;) {
      if (this.lacing.length === 255) {
        // Page full: close it; if this packet has begun, it continues on the next page.
        this.closePage(0);
        this.continued = at > 0;
      }
      const seg = Math.min(255, packet.length - at);
      this.lacing.push(seg);
      if (seg > 0) this.body.push(packet.subarray(at, at + seg));
      at += seg;
      // A lacing value under 255 ends the packet (a multiple of 255 ends with a 0 value).
      if (seg < 255) break;
    }
    this.granule = BigInt(granule);
    this.lastGranule = this.granule;
    this.packetsOnPage++;
  }

  /** Close the page being filled (if it holds anything, or if `eos` asks for the last page). */
  flushPage(opts: { eos?: boolean } = {}): void {
    if (this.lacing.length === 0 && !opts.eos) return;
    this.closePage(opts.eos ? EOS : 0);
    if (opts.eos) this.eosWritten = true;
  }

  /** Take the bytes of all pages closed so far. */
  take(): Uint8Array {
    if (this.ready.length === 0) return new Uint8Array(0);
    const out = this.ready.length === 1 ? this.ready[0]! : concatBytes(this.ready);
    this.ready.length = 0;
    return out;
  }

  private closePage(flags: number): void {
    const nseg = this.lacing.length;
    const bodyLen = this.body.reduce((n, b) => n + b.length, 0);
    const page = new Uint8Array(27 + nseg + bodyLen);
    const v = new DataView(page.buffer);
    page.set([0x4f, 0x67, 0x67, 0x53], 0); // "OggS"
    page[4] = 0; // version
    page[5] = flags | (this.continued ? CONTINUED : 0) | (this.sequence === 0 ? BOS : 0);
    // An empty page (only an EOS marker) repeats the stream's position rather than saying "none".
    v.setBigInt64(6, nseg === 0 ? this.lastGranule : this.granule, true);
    v.setUint32(14, this.serial, true);
    v.setUint32(18, this.sequence, true);
    // bytes 22–25: CRC, computed over the page with this field zero
    page[26] = nseg;
    page.set(this.lacing, 27);
    let o = 27 + nseg;
    for (const b of this.body) {
      page.set(b, o);
      o += b.length;
    }
    v.setUint32(22, oggCrc32(page), true);
    this.ready.push(page);
    this.sequence++;
    this.lacing = [];
    this.body = [];
    this.granule = NO_GRANULE;
    this.continued = false;
    this.packetsOnPage = 0;
  }
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let r = i << 24;
    for (let k = 0; k < 8; k++) r = r & 0x80000000 ? (r << 1) ^ 0x04c11db7 : r << 1;
    t[i] = r >>> 0;
  }
  return t;
})();

/** Ogg's CRC-32: polynomial 0x04C11DB7, MSB first, initial value 0, no final xor. */
export function oggCrc32(bytes: Uint8Array): number {
  let crc = 0;
  for (let i = 0; i < bytes.length; i++) crc = ((crc << 8) ^ CRC_TABLE[((crc >>> 24) ^ bytes[i]!) & 0xff]!) >>> 0;
  return crc;
}
