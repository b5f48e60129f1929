import crypto from 'node:crypto';
import fs from 'node:fs';
import { Command } from 'commander';
import { OUTPUT_FORMATS as SPEECH_FORMATS } from '../audio/encode/index.js';
import type { OutputFormat } from '../audio/types.js';
import { OPENAI_VOICES } from '../engines/tts/types.js';
import { speak } from '../pipeline/speak.js';
import { createRuntime } from '../runtime/host.js';
import { configFromProgram, reportFailure } from './main.js';

/** `parley say`: speech synthesis without a server. */
export function sayCommand(program: Command): Command {
  return new Command('say')
    .description('speak TEXT into an audio file (or stdout) without a server')
    .argument('<text>', 'what to say ("-" reads standard input)')
    .option('-v, --voice <voice>', `voice: ${OPENAI_VOICES.join(', ')}`, 'alloy')
    .option('-f, --format <format>', `output format: ${SPEECH_FORMATS.join(', ')}`, 'wav')
    .option('-s, --speed <speed>', 'speed 0.25–4.0', '1')
    .option('-e, --engine <engine>', 'TTS engine: flite, espeak-ng, kokoro (default: config)')
    .option('-o, --output <file>', 'output file (default: standard output)')
    .action(async (text: string, opts: { voice: string; format: string; speed: string; engine?: string; output?: string }) => {
      try {
        if (!(SPEECH_FORMATS as readonly string[]).includes(opts.format))
          throw new Error(`unknown format '${opts.format}': use one of ${SPEECH_FORMATS.join(', ')}`);
        const speed = Number(opts.speed);
        if (!Number.isFinite(speed) || speed < 0.25 || speed > 4) throw new Error(`--speed must be between 0.25 and 4.0, got '${opts.speed}'`);
        const input = text === '-' ? fs.readFileSync(0, 'utf8') : text;
        const config = configFromProgram(program);
        if (opts.engine) config.tts.engine = opts.engine as typeof config.tts.engine;
        const runtime = await createRuntime(config);
        try {
          const { speaker, watermark } = runtime.services.engines();
          if (!speaker.voiceNames().includes(opts.voice)) {
            throw new Error(`unknown voice '${opts.voice}': use one of ${speaker.voiceNames().join(', ')}`);
          }
          const speech = speak(speaker, {
            text: input,
            voice: opts.voice,
            speed,
            format: opts.format as OutputFormat,
            streaming: !opts.output,
            // Marked like the server's speech; the tag is kept in the data folder's database.
            transform: watermark.begin({ responseId: `say_${crypto.randomUUID()}`, owner: null, model: 'tts-1', voice: opts.voice }),
          });
          // Opened now, so a bad path is a one-line error rather than a stream 'error' event.
          const out = opts.output ? fs.createWriteStream('', { fd: fs.openSync(`${opts.output}.part`, 'w') }) : process.stdout;
          for await (const chunk of speech.chunks()) {
            if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
          }
          if (opts.output) {
            await new Promise<void>((resolve, reject) => (out as fs.WriteStream).end((e?: Error | null) => (e ? reject(e) : resolve())));
            fs.renameSync(`${opts.output}.part`, opts.output);
            process.stderr.write(`wrote ${opts.output}: ${speech.stats.durationSec.toFixed(2)} s of audio, ${speech.stats.passages} passage(s)\n`);
          }
        } finally {
          await runtime.close();
        }
      } catch (error) {
        reportFailure(error);
      }
    });
}

/** `parley voices`: the OpenAI voice names and what renders them. */
export function voicesCommand(program: Command): Command {
  return new Command('voices')
    .description('list the OpenAI voice names and the engine voices that render them')
    .option('-e, --engine <engine>', 'TTS engine (default: config)')
    .option('--json', 'print JSON')
    .action(async (opts: { engine?: string; json?: boolean }) => {
      try {
        const config = configFromProgram(program);
        if (opts.engine) config.tts.engine = opts.engine as typeof config.tts.engine;
        const runtime = await createRuntime(config);
        try {
          const rows = runtime.voiceTable();
          if (opts.json) {
            process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
          } else {
            process.stdout.write(`engine: ${rows.engine}${config.tts.engine === 'auto' ? ' (auto)' : ''}\n\n`);
            process.stdout.write(`${'voice'.padEnd(10)}${'engine voice'.padEnd(16)}${'pitch'.padEnd(8)}rate\n`);
            for (const r of rows.map) process.stdout.write(`${r.name.padEnd(10)}${r.voice.padEnd(16)}${String(r.pitch).padEnd(8)}${r.rate}\n`);
            process.stdout.write(`\nengine voices: ${rows.engineVoices.map((v) => `${v.id} (${v.language}${v.gender ? `, ${v.gender}` : ''})`).join(', ')}\n`);
          }
        } finally {
          await runtime.close();
        }
      } catch (error) {
        reportFailure(error);
      }
    });
}
