import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

const require = createRequire(import.meta.url);

/** ffprobe from Debian when installed, else the one shipped by @ffprobe-installer. */
export function ffprobePath(): string {
  for (const p of ['/usr/bin/ffprobe', '/usr/local/bin/ffprobe']) if (fs.existsSync(p)) return p;
  return (require('@ffprobe-installer/ffprobe') as { path: string }).path;
}

/** An ffmpeg binary (Debian's, else the npm one). */
export function ffmpegBinary(): string {
  for (const p of ['/usr/bin/ffmpeg', '/usr/local/bin/ffmpeg']) if (fs.existsSync(p)) return p;
  return (require('@ffmpeg-installer/ffmpeg') as { path: string }).path;
}

export interface Probe {
  codec: string;
  sampleRate: number;
  channels: number;
  durationSec: number;
}

/** Decodes the container/stream headers of `bytes` with ffprobe; throws if ffprobe cannot. */
export function probe(bytes: Uint8Array, ext: string): Probe {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'parley-probe-')), `audio.${ext}`);
  fs.writeFileSync(file, bytes);
  try {
    // A full decode first: a truncated or corrupt stream fails here, not only a bad header. (Not for
    // streamed WAV: its 0xFFFFFFFF data size makes ffmpeg flag the short last read as corrupt.)
    const strict = ext === 'wav' ? [] : ['-xerror'];
    execFileSync(ffmpegBinary(), ['-v', 'error', ...strict, '-i', file, '-f', 'null', '-'], { stdio: ['ignore', 'ignore', 'pipe'] });
    const out = execFileSync(ffprobePath(), ['-v', 'error', '-show_streams', '-show_format', '-of', 'json', file], { encoding: 'utf8' });
    const json = JSON.parse(out) as { streams: Array<Record<string, string | number>>; format: Record<string, string> };
    const s = json.streams[0];
    if (!s) throw new Error('no audio stream');
    let duration = Number(json.format.duration ?? s.duration);
    if (!Number.isFinite(duration)) duration = decodedDuration(file);
    return { codec: String(s.codec_name), sampleRate: Number(s.sample_rate), channels: Number(s.channels), durationSec: duration };
  } finally {
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
  }
}

/** Duration found by decoding every packet (for streams whose header holds none). */
function decodedDuration(file: string): number {
  const out = execFileSync(ffprobePath(), ['-v', 'error', '-show_entries', 'packet=pts_time,duration_time', '-of', 'csv=p=0', file], { encoding: 'utf8' });
  let end = 0;
  for (const line of out.trim().split('\n')) {
    const [pts, dur] = line.split(',').map(Number);
    if (Number.isFinite(pts) && Number.isFinite(dur)) end = Math.max(end, pts! + dur!);
  }
  return end;
}

/** Parses a 16-bit PCM mono WAV body into floats (Parley's own output). */
export function wavToPcm(bytes: Uint8Array): { samples: Float32Array; sampleRate: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const sampleRate = view.getUint32(24, true);
  let offset = 12;
  while (offset + 8 <= bytes.length) {
    const id = String.fromCharCode(...bytes.subarray(offset, offset + 4));
    const size = view.getUint32(offset + 4, true);
    if (id === 'data') {
      const end = size === 0xffffffff ? bytes.length : Math.min(bytes.length, offset + 8 + size);
      const n = Math.floor((end - offset - 8) / 2);
      const samples = new Float32Array(n);
      for (let i = 0; i < n; i++) samples[i] = view.getInt16(offset + 8 + 2 * i, true) / 32768;
      return { samples, sampleRate };
    }
    offset += 8 + size + (size % 2);
  }
  throw new Error('no data chunk');
}
