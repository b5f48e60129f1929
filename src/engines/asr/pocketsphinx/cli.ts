/**
 * The fallback when the in-process decoder cannot be used (koffi or the shared libraries fail to
 * load): Debian's `pocketsphinx_continuous -infile x.wav -time yes`, one process per call.
 * Slower (the model loads every time, ~0.3 s) but the same decoder and the same results.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { floatToS16le } from '../../../audio/pcm.js';
import { ASR_SAMPLE_RATE } from '../common.js';
import { cleanWord } from './ffi.js';
import type { SphinxModelPaths } from './model.js';

/** A word with times in seconds; `end` is exclusive (start of the next frame). */
export interface TimedWord {
  word: string;
  start: number;
  end: number;
  /** Posterior probability 0–1. */
  confidence: number;
}

const BINARY = 'pocketsphinx_continuous';
/** Seconds of one frame at pocketsphinx's default `-frate 100`. */
const FRAME = 0.01;

/** Full path of `pocketsphinx_continuous` on PATH (or /usr/bin), or undefined. */
export function findSphinxCli(): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter), '/usr/bin'];
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = path.join(dir, BINARY);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // next
    }
  }
  return undefined;
}

/** A 16 kHz mono 16-bit WAV file's bytes. */
export function wavBytes(samples16k: Float32Array): Buffer {
  const data = floatToS16le(samples16k);
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVE', 8, 'ascii');
  header.write('fmt ', 12, 'ascii');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(ASR_SAMPLE_RATE, 24);
  header.writeUInt32LE(ASR_SAMPLE_RATE * 2, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(data.length, 40);
  return Buffer.concat([header, data]);
}

/**
 * Runs the CLI on 16 kHz audio and returns its utterances (each a list of words).
 * `signal` kills the process; it then rejects with the signal's reason.
 */
export async function recognizeWithCli(
  samples16k: Float32Array,
  model: SphinxModelPaths,
  options: { binary: string; signal?: AbortSignal },
): Promise<TimedWord[][]> {
  const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'parley-sphinx-'));
  const wav = path.join(dir, 'input.wav');
  try {
    await fs.promises.writeFile(wav, wavBytes(samples16k));
    const args = ['-infile', wav, '-hmm', model.hmm, '-lm', model.lm, '-dict', model.dict, '-time', 'yes', '-logfn', '/dev/null'];
    const stdout = await run(options.binary, args, options.signal);
    return parseCliOutput(stdout);
  } finally {
    await fs.promises.rm(dir, { recursive: true, force: true });
  }
}

/**
 * Parses `-time yes` output: hypothesis lines, then one `word start end confidence` line per
 * word, each utterance framed by `<s>` and `</s>`.
 */
export function parseCliOutput(stdout: string): TimedWord[][] {
  const utterances: TimedWord[][] = [];
  let current: TimedWord[] | undefined;
  for (const line of stdout.split('\n')) {
    const m = /^(\S+) (\d+(?:\.\d+)?) (\d+(?:\.\d+)?) (\d+(?:\.\d+)?(?:e[-+]?\d+)?)$/.exec(line.trim());
    if (!m) continue;
    const [, raw, s, e, c] = m as unknown as [string, string, string, string, string];
    if (raw === '<s>' || !current) {
      current = [];
      utterances.push(current);
    }
    const word = cleanWord(raw);
    if (word) current.push({ word, start: Number(s), end: Math.round((Number(e) + FRAME) * 1000) / 1000, confidence: Number(c) });
    if (raw === '</s>') current = undefined;
  }
  return utterances.filter((u) => u.length > 0);
}

function run(binary: string, args: string[], signal?: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'], signal });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => {
      err = (err + d.toString('utf8')).slice(-2000);
    });
    child.on('error', (e) => reject(signal?.aborted ? signal.reason : e));
    child.on('close', (code, sig) => {
      if (signal?.aborted) reject(signal.reason);
      else if (code === 0) resolve(Buffer.concat(out).toString('utf8'));
      else reject(new Error(`${binary} exited with ${sig ?? `code ${code}`}: ${err.trim()}`));
    });
  });
}
