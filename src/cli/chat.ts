import fs from 'node:fs';
import { Command } from 'commander';
import { OPENAI_VOICES } from '../engines/tts/types.js';
import { buildApp } from '../http/server.js';
import { createRuntime } from '../runtime/host.js';
import { configFromProgram, reportFailure } from './main.js';

const FORMATS = ['wav', 'mp3', 'flac', 'opus', 'pcm16'] as const;

/** `parley chat`: one spoken or written turn, against a running server or in-process. */
export function chatCommand(program: Command): Command {
  return new Command('chat')
    .description('ask one question (a wav/mp3 file or text) and get the answer as text and, with -o, as speech')
    .argument('<question>', 'a .wav/.mp3 file to speak the question, or the question as text')
    .option('-v, --voice <voice>', `voice of the answer: ${OPENAI_VOICES.join(', ')}`, 'alloy')
    .option('-o, --output <file>', 'write the spoken answer here (format from the extension: wav, mp3, flac, opus, pcm)')
    .option('-m, --model <model>', 'model', 'gpt-4o-mini-audio-preview')
    .option('-s, --system <text>', 'system prompt')
    .option('--max-tokens <n>', 'longest answer in tokens', '256')
    .option('--url <url>', 'a running Parley (or OpenAI-compatible) server, e.g. http://127.0.0.1:8000; default: in-process')
    .option('--key <key>', 'API key for --url (default: PARLEY_API_KEY or none)')
    .action(
      async (question: string, opts: { voice: string; output?: string; model: string; system?: string; maxTokens: string; url?: string; key?: string }) => {
        try {
          const isAudio = /\.(wav|mp3)$/i.test(question) && fs.existsSync(question);
          const content = isAudio
            ? [
                {
                  type: 'input_audio',
                  input_audio: { data: fs.readFileSync(question).toString('base64'), format: question.toLowerCase().endsWith('.mp3') ? 'mp3' : 'wav' },
                },
              ]
            : question;
          const ext = opts.output?.split('.').pop()?.toLowerCase();
          const format = ext === 'pcm' ? 'pcm16' : ext;
          if (opts.output && !(FORMATS as readonly string[]).includes(format ?? ''))
            throw new Error(`cannot tell the audio format from '${opts.output}': use .wav, .mp3, .flac, .opus or .pcm`);
          const body = {
            model: opts.model,
            messages: [...(opts.system ? [{ role: 'system', content: opts.system }] : []), { role: 'user', content }],
            max_tokens: Number(opts.maxTokens),
            ...(opts.output ? { modalities: ['text', 'audio'], audio: { voice: opts.voice, format } } : {}),
          };
          let status: number;
          let json: {
            error?: { message?: string };
            choices: Array<{ message: { audio?: { data: string; transcript: string }; content?: string; tool_calls?: unknown } }>;
          };
          if (opts.url) {
            const key = opts.key ?? process.env.PARLEY_API_KEY;
            const res = await fetch(`${opts.url.replace(/\/$/, '')}/v1/chat/completions`, {
              method: 'POST',
              headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
              body: JSON.stringify(body),
            });
            status = res.status;
            json = await res.json();
          } else {
            const config = configFromProgram(program);
            config.logLevel = 'silent';
            const runtime = await createRuntime(config);
            try {
              const app = await buildApp(runtime.services, { logger: false });
              runtime.markReady();
              const res = await app.inject({ method: 'POST', url: '/v1/chat/completions', payload: body });
              status = res.statusCode;
              json = res.json();
              await app.close();
            } finally {
              await runtime.close();
            }
          }
          if (status !== 200) throw new Error(json?.error?.message ?? `HTTP ${status}`);
          const message = json.choices[0]!.message;
          if (message.audio) {
            fs.writeFileSync(opts.output!, Buffer.from(message.audio.data, 'base64'));
            process.stdout.write(`${message.audio.transcript}\n`);
            process.stderr.write(`wrote ${opts.output}\n`);
          } else {
            process.stdout.write(`${message.content ?? JSON.stringify(message.tool_calls)}\n`);
          }
        } catch (error) {
          reportFailure(error);
        }
      },
    );
}
