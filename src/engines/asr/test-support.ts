/**
 * Helpers for the ASR tests: read the 16-bit PCM WAV fixtures and their transcripts without
 * depending on the decoder module, and write the tiny random whisper model.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { int16ToFloat } from '../../audio/pcm.js';
import type { PcmAudio } from '../../audio/types.js';

/** test/fixtures/speech of this checkout. */
export const SPEECH_FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../test/fixtures/speech');

/** Reads a mono 16-bit PCM WAV (RIFF chunks walked, so LIST chunks are fine). */
export function readWav16(file: string): PcmAudio {
  const b = fs.readFileSync(file);
  if (b.toString('ascii', 0, 4) !== 'RIFF' || b.toString('ascii', 8, 12) !== 'WAVE') throw new Error(`${file} is not a WAV file`);
  let sampleRate = 0;
  let channels = 0;
  let bits = 0;
  for (let off = 12; off + 8 <= b.length; ) {
    const id = b.toString('ascii', off, off + 4);
    const size = b.readUInt32LE(off + 4);
    const body = off + 8;
    if (id === 'fmt ') {
      channels = b.readUInt16LE(body + 2);
      sampleRate = b.readUInt32LE(body + 4);
      bits = b.readUInt16LE(body + 14);
    } else if (id === 'data') {
      if (bits !== 16 || channels !== 1) throw new Error(`${file}: expected 16-bit mono, got ${bits}-bit ${channels} channels`);
      const n = Math.floor(Math.min(size, b.length - body) / 2);
      const pcm = new Int16Array(n);
      for (let i = 0; i < n; i++) pcm[i] = b.readInt16LE(body + 2 * i);
      return { samples: int16ToFloat(pcm), sampleRate };
    }
    off = body + size + (size & 1);
  }
  throw new Error(`${file} has no data chunk`);
}

/** file → transcript from a `transcripts.tsv` (header `file<TAB>transcript`). */
export function readTranscripts(tsv: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of fs.readFileSync(tsv, 'utf8').split('\n').slice(1)) {
    const tab = line.indexOf('\t');
    if (tab > 0) map.set(line.slice(0, tab), line.slice(tab + 1).trim());
  }
  return map;
}

/** The speech fixtures whose names start with `prefix`, with their transcripts. */
export function speechFixtures(prefix: string): Array<{ file: string; path: string; transcript: string }> {
  const transcripts = readTranscripts(path.join(SPEECH_FIXTURES, 'transcripts.tsv'));
  return [...transcripts.entries()]
    .filter(([file]) => file.startsWith(prefix) && fs.existsSync(path.join(SPEECH_FIXTURES, file)))
    .map(([file, transcript]) => ({ file, path: path.join(SPEECH_FIXTURES, file), transcript }))
    .sort((a, b) => a.file.localeCompare(b.file));
}
