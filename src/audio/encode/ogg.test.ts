import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OggPageWriter, oggCrc32 } from './ogg.js';

interface Page {
  flags: number;
  granule: bigint;
  sequence: number;
  lacing: number[];
  body: Uint8Array;
}

function parse(bytes: Uint8Array): Page[] {
  const pages: Page[] = [];
  let at = 0;
  while (at < bytes.length) {
    const v = new DataView(bytes.buffer, bytes.byteOffset + at);
    const nseg = bytes[at + 26]!;
    const lacing = [...bytes.subarray(at + 27, at + 27 + nseg)];
    const len = 27 + nseg + lacing.reduce((a, b) => a + b, 0);
    const copy = bytes.slice(at, at + len);
    copy.fill(0, 22, 26);
    assert.equal(oggCrc32(copy), v.getUint32(22, true), `CRC of page at ${at}`);
    pages.push({
      flags: bytes[at + 5]!,
      granule: v.getBigInt64(6, true),
      sequence: v.getUint32(18, true),
      lacing,
      body: bytes.subarray(at + 27 + nseg, at + len),
    });
    at += len;
  }
  return pages;
}

/** Reassemble packets from pages as a demuxer would. */
function packets(pages: Page[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let current: number[] = [];
  for (const p of pages) {
    assert.equal((p.flags & 0x01) !== 0, current.length > 0, `continued flag of page ${p.sequence}`);
    let at = 0;
    for (const l of p.lacing) {
      current.push(...p.body.subarray(at, at + l));
      at += l;
      if (l < 255) {
        out.push(Uint8Array.from(current));
        current = [];
      }
    }
  }
  assert.equal(current.length, 0, 'no packet left unfinished');
  return out;
}

function filled(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

test('computes the Ogg CRC-32 of a known page', () => {
  // CRC-32/MPEG-2 variant without reflection or final xor: "123456789" → 0x89A1897F.
  assert.equal(oggCrc32(new TextEncoder().encode('123456789')), 0x89a1897f);
});

test('round-trips packets of awkward sizes, a packet spanning several pages included', () => {
  const sizes = [0, 1, 254, 255, 256, 510, 70_000, 3];
  const w = new OggPageWriter(0x1234);
  for (const [i, n] of sizes.entries()) w.addPacket(filled(n, i), i + 1);
  w.flushPage({ eos: true });
  const pages = parse(w.take());
  assert.deepEqual(
    packets(pages),
    sizes.map((n, i) => filled(n, i)),
  );
  assert.ok(pages.length >= 2);
  pages.forEach((p, i) => {
    assert.equal(p.sequence, i);
    assert.ok(p.lacing.length <= 255);
    assert.equal((p.flags & 0x02) !== 0, i === 0, 'BOS on the first page only');
    assert.equal((p.flags & 0x04) !== 0, i === pages.length - 1, 'EOS on the last page only');
  });
  // Pages after the first are continuations of the 70 000-byte packet, and those on which no
  // packet ends carry granule −1.
  const middle = pages.slice(1, -1);
  for (const p of middle) {
    assert.equal(p.flags & 0x01, 0x01);
    assert.equal(p.granule, -1n);
  }
  assert.equal(pages.at(-1)!.granule, BigInt(sizes.length));
});

test('gives a packet a multiple of 255 bytes long a terminating zero lacing value', () => {
  const w = new OggPageWriter(1);
  w.addPacket(filled(510, 0), 5);
  w.flushPage();
  assert.deepEqual(parse(w.take())[0]!.lacing, [255, 255, 0]);
});

test('does not mark a page as continued when the previous page ended on a packet boundary', () => {
  const w = new OggPageWriter(1);
  for (let i = 0; i < 255; i++) w.addPacket(filled(10, i), i); // exactly fills 255 lacing values
  w.addPacket(filled(10, 255), 255);
  w.flushPage({ eos: true });
  const pages = parse(w.take());
  assert.equal(pages.length, 2);
  assert.equal(pages[1]!.flags & 0x01, 0);
  assert.equal(pages[0]!.granule, 254n);
});

test('writes an empty EOS page when asked to end with nothing pending', () => {
  const w = new OggPageWriter(1);
  w.addPacket(filled(3, 0), 7);
  w.flushPage();
  w.flushPage({ eos: true });
  const pages = parse(w.take());
  assert.equal(pages.length, 2);
  assert.equal(pages[1]!.lacing.length, 0);
  assert.equal(pages[1]!.flags & 0x04, 0x04);
  assert.equal(pages[1]!.granule, 7n, 'an empty last page repeats the last granule position');
  assert.throws(() => w.addPacket(filled(1, 0), 8));
});
