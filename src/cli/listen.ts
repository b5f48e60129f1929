import fs from 'node:fs';
import { Command } from 'commander';
import { wireAnalysis } from '../http/wire.js';
import { decodeForRecognition } from '../pipeline/input-audio.js';
import { transcribeAudio } from '../pipeline/transcribe.js';
import { TRANSCRIPT_FORMATS, type TranscriptFormat, toSrt, toVerboseJson, toVtt } from '../pipeline/transcript-format.js';
import { understandUpload } from '../pipeline/understand.js';
import { createRuntime } from '../runtime/host.js';
import { configFromProgram, reportFailure } from './main.js';

const MAX_FILE_BYTES = 25 * 1024 * 1024;

/** `parley transcribe FILE`: speech to text without a server. */
export function transcribeCommand(program: Command): Command {
  return new Command('transcribe')
    .description('transcribe an audio file (wav, mp3, flac, m4a, ogg, webm) without a server')
    .argument('<file>', 'audio file')
    .option('-f, --format <format>', `output: ${TRANSCRIPT_FORMATS.join(', ')}`, 'text')
    .option('-l, --language <code>', 'spoken language (ISO-639-1, e.g. en); default: detect')
    .option('--translate', 'translate to English (whisper)')
    .option('-e, --engine <engine>', 'ASR engine: auto, whisper, pocketsphinx (default: config)')
    .action(async (file: string, opts: { format: string; language?: string; translate?: boolean; engine?: string }) => {
      try {
        if (!(TRANSCRIPT_FORMATS as readonly string[]).includes(opts.format))
          throw new Error(`unknown format '${opts.format}': use one of ${TRANSCRIPT_FORMATS.join(', ')}`);
        const config = configFromProgram(program);
        if (opts.engine) config.asr.engine = opts.engine as typeof config.asr.engine;
        const runtime = await createRuntime(config);
        try {
          const engines = runtime.services.engines();
          const [asr, vad] = await Promise.all([engines.asr(), engines.vad()]);
          const pcm = await decodeForRecognition(engines.limiter, fs.readFileSync(file), {
            param: 'file',
            format: file.split('.').pop(),
            maxBytes: MAX_FILE_BYTES,
          });
          const task = opts.translate ? 'translate' : 'transcribe';
          const t = await transcribeAudio({ asr, vad }, pcm, { language: opts.language, task, wordTimestamps: asr.capabilities.wordTimestamps });
          const format = opts.format as TranscriptFormat;
          const out =
            format === 'srt'
              ? toSrt(t)
              : format === 'vtt'
                ? toVtt(t)
                : format === 'text'
                  ? `${t.text}\n`
                  : `${JSON.stringify(format === 'json' ? { text: t.text } : toVerboseJson(t, task, new Set(['segment', 'word'])), null, 2)}\n`;
          process.stdout.write(out);
        } finally {
          await runtime.close();
        }
      } catch (error) {
        reportFailure(error);
      }
    });
}

/** `parley analyze FILE`: what was said and how. */
export function analyzeCommand(program: Command): Command {
  return new Command('analyze')
    .description('analyse how an audio file was spoken: transcript, sentiment, arousal, pitch, pace, pauses (JSON)')
    .argument('<file>', 'audio file')
    .option('-l, --language <code>', 'spoken language (ISO-639-1)')
    .action(async (file: string, opts: { language?: string }) => {
      try {
        const config = configFromProgram(program);
        const runtime = await createRuntime(config);
        try {
          const u = await understandUpload(runtime.services.engines(), fs.readFileSync(file), {
            param: 'file',
            format: file.split('.').pop(),
            maxBytes: MAX_FILE_BYTES,
            language: opts.language,
          });
          process.stdout.write(`${JSON.stringify(wireAnalysis(u), null, 2)}\n`);
        } finally {
          await runtime.close();
        }
      } catch (error) {
        reportFailure(error);
      }
    });
}
