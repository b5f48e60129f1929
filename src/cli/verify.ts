import fs from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { type AudioVerification, wireVerification } from '../http/wire.js';
import { verifyRecording } from '../pipeline/verify.js';
import { createRuntime } from '../runtime/host.js';
import { configFromProgram, reportFailure } from './main.js';

/**
 * `parley verify FILE`: is this recording a voice this Parley made? In-process it reads the data
 * folder's watermark key and database (the operator: every field is shown); with `--url` it asks a
 * running server, which tells a key only about its own responses.
 */
export function verifyCommand(program: Command): Command {
  return new Command('verify')
    .description("check a recording for this server's watermark, and which response it was made for")
    .argument('<file>', 'the recording (wav, mp3, m4a/aac, flac, ogg, webm)')
    .option('--url <url>', 'a running Parley, e.g. http://127.0.0.1:8000; default: in-process, with the data folder of the config')
    .option('--key <key>', 'API key for --url (default: PARLEY_API_KEY or none)')
    .addHelpText(
      'after',
      '\nPrints JSON: {object, watermarked, confidence, response_id, created_at, model, voice, duration}. Exit code 0 when watermarked, 2 when not, 1 on error.\n' +
        'The mark survives MP3/AAC at 64 kbit/s, 16 kHz resampling, gain changes and cutting to 3 s of speech (see README, "Safety").',
    )
    .action(async (file: string, opts: { url?: string; key?: string }) => {
      try {
        const bytes = fs.readFileSync(file);
        const result = opts.url ? await askServer(opts.url, opts.key ?? process.env.PARLEY_API_KEY, bytes, file) : await verifyInProcess(program, bytes, file);
        process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
        process.exitCode = result.watermarked ? 0 : 2;
      } catch (error) {
        reportFailure(error);
      }
    });
}

async function verifyInProcess(program: Command, bytes: Uint8Array, file: string): Promise<AudioVerification> {
  const runtime = await createRuntime(configFromProgram(program));
  try {
    const verdict = await verifyRecording(runtime.services.engines(), bytes, { param: 'file', format: path.extname(file).slice(1) || undefined });
    // In-process is the operator: every field is shown.
    return wireVerification(verdict, () => true);
  } finally {
    await runtime.close();
  }
}

async function askServer(url: string, key: string | undefined, bytes: Uint8Array, file: string): Promise<AudioVerification> {
  const form = new FormData();
  form.set('file', new Blob([Buffer.from(bytes)]), path.basename(file));
  let res: Response;
  try {
    res = await fetch(`${url.replace(/\/$/, '')}/v1/audio/verify`, { method: 'POST', headers: key ? { authorization: `Bearer ${key}` } : {}, body: form });
  } catch (e) {
    throw new Error(
      `cannot reach ${url}: ${(e as Error).cause instanceof Error ? ((e as Error).cause as Error).message : (e as Error).message} (is the server running?)`,
    );
  }
  const json = (await res.json().catch(() => ({}))) as AudioVerification & { error?: { message?: string } };
  if (!res.ok) throw new Error(json.error?.message ?? `the server answered HTTP ${res.status}`);
  return json;
}
