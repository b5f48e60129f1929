import fs from 'node:fs';
import { Command } from 'commander';
import { OPENAI_VOICES } from '../engines/tts/types.js';
import { runChatTurn } from '../pipeline/chat/turn.js';
import { CHAT_AUDIO_FORMATS, type ChatAudioFormat, type ChatInputPart, type ChatTurnParams } from '../pipeline/chat/types.js';
import { createRuntime } from '../runtime/host.js';
import { configFromProgram, reportFailure } from './main.js';

/** The output format a file name asks for (`.pcm` is chat's `pcm16`). */
function formatOf(file: string): ChatAudioFormat {
  const ext = file.split('.').pop()?.toLowerCase();
  const format = ext === 'pcm' ? 'pcm16' : ext;
  if (!(CHAT_AUDIO_FORMATS as readonly string[]).includes(format ?? '')) {
    throw new Error(`cannot tell the audio format from '${file}': use .wav, .mp3, .flac, .opus, .aac or .pcm`);
  }
  return format as ChatAudioFormat;
}

interface ChatOptions {
  voice: string;
  output?: string;
  model: string;
  system?: string;
  maxTokens: string;
  url?: string;
  key?: string;
}

/** `parley chat`: one spoken or written turn, in-process (the same pipeline the server runs) or against a running server. */
export function chatCommand(program: Command): Command {
  return new Command('chat')
    .description('ask one question (a wav/mp3 file or text) and get the answer as text and, with -o, as speech')
    .argument('<question>', 'a .wav/.mp3 file to speak the question, or the question as text')
    .option('-v, --voice <voice>', `voice of the answer: ${OPENAI_VOICES.join(', ')}`, 'alloy')
    .option('-o, --output <file>', 'write the spoken answer here (format from the extension: wav, mp3, flac, opus, aac, pcm)')
    .option('-m, --model <model>', 'model', 'gpt-4o-mini-audio-preview')
    .option('-s, --system <text>', 'system prompt')
    .option('--max-tokens <n>', 'longest answer in tokens', '256')
    .option('--url <url>', 'a running Parley (or OpenAI-compatible) server, e.g. http://127.0.0.1:8000; default: in-process')
    .option('--key <key>', 'API key for --url (default: PARLEY_API_KEY or none)')
    .action(async (question: string, opts: ChatOptions) => {
      try {
        const maxTokens = Number(opts.maxTokens);
        if (!Number.isInteger(maxTokens) || maxTokens < 1) throw new Error(`--max-tokens must be a positive integer, got '${opts.maxTokens}'`);
        const format = opts.output ? formatOf(opts.output) : undefined;
        const isAudio = /\.(wav|mp3)$/i.test(question) && fs.existsSync(question);
        const question_: ChatInputPart = isAudio
          ? { type: 'audio', data: fs.readFileSync(question), format: question.toLowerCase().endsWith('.mp3') ? 'mp3' : 'wav', param: 'question' }
          : { type: 'text', text: question };
        const turn: ChatTurnParams = {
          model: opts.model,
          stream: false,
          maxTokens,
          messages: [
            ...(opts.system ? [{ role: 'system' as const, parts: [{ type: 'text' as const, text: opts.system }] }] : []),
            { role: 'user', parts: [question_] },
          ],
          ...(format ? { audioOut: { voice: opts.voice, format } } : {}),
        };
        const answer = opts.url ? await askServer(opts.url, opts.key ?? process.env.PARLEY_API_KEY, turn) : await askInProcess(program, turn);
        if (answer.audio) {
          fs.writeFileSync(opts.output!, answer.audio);
          process.stderr.write(`wrote ${opts.output}\n`);
        }
        process.stdout.write(`${answer.text}\n`);
      } catch (error) {
        reportFailure(error);
      }
    });
}

/** Runs the turn in this process: the pipeline the server runs, without HTTP or keys. */
async function askInProcess(program: Command, turn: ChatTurnParams): Promise<{ text: string; audio?: Uint8Array }> {
  const config = configFromProgram(program);
  config.logLevel = 'silent';
  const runtime = await createRuntime(config);
  try {
    const { services } = runtime;
    services.models.resolve(turn.model, 'chat');
    const scope = { owner: null, requestId: 'cli', signal: services.shutdownSignal };
    const result = await runChatTurn({ engines: services.engines(turn.model), audioIds: services.audioIds, usage: services.usage, scope }, turn);
    return { text: result.toolCalls.length > 0 ? JSON.stringify(result.toolCalls) : result.text, audio: result.audio?.data };
  } finally {
    await runtime.close();
  }
}

/** Sends the turn to a running server through the public API. */
async function askServer(url: string, key: string | undefined, turn: ChatTurnParams): Promise<{ text: string; audio?: Uint8Array }> {
  const content = turn.messages
    .at(-1)!
    .parts.map((p) =>
      p.type === 'text'
        ? { type: 'text', text: p.text }
        : { type: 'input_audio', input_audio: { data: Buffer.from(p.data).toString('base64'), format: p.format } },
    );
  const body = {
    model: turn.model,
    messages: [
      ...turn.messages.slice(0, -1).map((m) => ({ role: m.role, content: m.parts.map((p) => (p.type === 'text' ? p.text : '')).join('') })),
      { role: 'user', content },
    ],
    max_tokens: turn.maxTokens,
    ...(turn.audioOut ? { modalities: ['text', 'audio'], audio: turn.audioOut } : {}),
  };
  let res: Response;
  try {
    res = await fetch(`${url.replace(/\/$/, '')}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
      body: JSON.stringify(body),
    });
  } catch (e) {
    throw new Error(
      `cannot reach ${url}: ${(e as Error).cause instanceof Error ? ((e as Error).cause as Error).message : (e as Error).message} (is the server running?)`,
    );
  }
  const json = (await res.json().catch(() => ({}))) as {
    error?: { message?: string };
    choices?: Array<{ message: { audio?: { data: string; transcript: string }; content?: string | null; tool_calls?: unknown } }>;
  };
  if (!res.ok || !json.choices?.[0]) throw new Error(json.error?.message ?? `the server answered HTTP ${res.status}`);
  const message = json.choices[0].message;
  if (message.audio) return { text: message.audio.transcript, audio: Buffer.from(message.audio.data, 'base64') };
  return { text: message.content ?? JSON.stringify(message.tool_calls) };
}
