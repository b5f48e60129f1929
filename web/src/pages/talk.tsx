/**
 * Talk: a spoken (or typed) conversation with the audio model. Each turn goes out through the SDK
 * as `chat.completions.create` with the user's audio as an `input_audio` part; the reply streams
 * back as text and pcm16 played as it arrives; earlier replies go back as `{role: "assistant",
 * audio: {id}}`. What was heard comes from `/v1/audio/analysis` on the same clip.
 */
import type OpenAI from 'openai';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, errorMessage } from '../api/client.js';
import { CHAT_AUDIO_FORMATS, CHAT_MODEL, VOICES } from '../api/names.js';
import { type ChatUsageWire, formatUsd, openaiCostOfUsage, parleyCostOf } from '../api/prices.js';
import { decodeToMono16k, Microphone } from '../audio/capture.js';
import { outputContext, PcmPlayer } from '../audio/player.js';
import { EnergyVad } from '../audio/vad.js';
import { AUDIO_MIME, concatBytes, encodeWav, fromBase64, toBase64 } from '../audio/wav.js';
import { AnalysisView, type AnalysisWire } from '../ui/analysis.js';
import { Select } from '../ui/fields.js';

type Message = OpenAI.Chat.Completions.ChatCompletionMessageParam;

interface Turn {
  id: number;
  kind: 'spoken' | 'typed';
  status: 'running' | 'done' | 'failed';
  /** What the user said (recognised) or typed. */
  heard: string | null;
  analysis: AnalysisWire | null;
  analysisNote: string | null;
  replyText: string;
  audioId: string | null;
  format: string;
  ttfaMs: number | null;
  usage: ChatUsageWire | null;
  parleyUsd: number | null;
  play: 'waiting' | 'playing' | 'played';
  /** The reply as a playable file (WAV for pcm16), for "play again". */
  replyUrl: string | null;
  /** What the user sent, to listen to. */
  userUrl: string | null;
  error: string | null;
}

/** Audio deltas of a streamed chat chunk (not in the SDK's types: see the contract notes). */
interface AudioDelta {
  id?: string;
  data?: string;
  transcript?: string;
  expires_at?: number;
}

const MIN_CLIP_SEC = 0.3;

function costLine(turn: Turn): string {
  if (!turn.usage) return '—';
  const parley = turn.parleyUsd === null ? 'Parley: not reported' : `Parley ${formatUsd(turn.parleyUsd)}`;
  return `OpenAI price ${formatUsd(openaiCostOfUsage(turn.usage))} · ${parley}`;
}

function tokenLine(u: ChatUsageWire | null): string {
  if (!u) return '—';
  const pa = u.prompt_tokens_details?.audio_tokens ?? 0;
  const ca = u.completion_tokens_details?.audio_tokens ?? 0;
  return `${u.prompt_tokens} in (${pa} audio) · ${u.completion_tokens} out (${ca} audio)`;
}

function TurnView({ turn, onReplay }: { turn: Turn; onReplay: (t: Turn) => void }) {
  const testid = turn.status === 'done' ? 'turn' : turn.status === 'failed' ? 'turn-failed' : 'turn-pending';
  return (
    <li class="card turn" data-testid={testid} data-audio-id={turn.audioId ?? undefined} aria-busy={turn.status === 'running'}>
      <div class="turn-you">
        <h3>{turn.kind === 'spoken' ? 'You said' : 'You typed'}</h3>
        <p data-testid="turn-transcript" class="heard">
          {turn.heard ?? (turn.status === 'running' ? 'Listening to your clip…' : '(not recognised)')}
        </p>
        {turn.userUrl ? (
          <audio controls src={turn.userUrl} preload="none" aria-label="Your clip">
            <track kind="captions" />
          </audio>
        ) : null}
        <div data-testid="turn-analysis">
          <h4>How it sounded</h4>
          {turn.analysis ? <AnalysisView wire={turn.analysis} /> : <p class="muted">{turn.analysisNote ?? '…'}</p>}
        </div>
      </div>
      <div class="turn-reply">
        <h3>Parley</h3>
        <p data-testid="turn-reply-text" class="reply" aria-live="polite">
          {turn.replyText || (turn.status === 'running' ? '…' : '')}
        </p>
        {turn.error ? (
          <p role="alert" class="error">
            {turn.error}
          </p>
        ) : null}
        <div class="row">
          <button
            type="button"
            data-testid="turn-reply-audio"
            data-state={turn.play}
            disabled={!turn.replyUrl || turn.play === 'playing'}
            onClick={() => onReplay(turn)}
          >
            {turn.play === 'playing' ? 'Playing…' : turn.replyUrl ? 'Play reply again' : 'Reply audio'}
          </button>
          {turn.audioId ? <span class="muted small audio-id">audio id {turn.audioId}</span> : null}
        </div>
        <dl class="facts">
          <div>
            <dt>First audio</dt>
            <dd data-testid="turn-ttfa-ms" data-ms={turn.ttfaMs ?? undefined}>
              {turn.ttfaMs === null ? '—' : `${Math.round(turn.ttfaMs)} ms`}
            </dd>
          </div>
          <div>
            <dt>Tokens</dt>
            <dd data-testid="turn-tokens">{tokenLine(turn.usage)}</dd>
          </div>
          <div>
            <dt>Cost</dt>
            <dd data-testid="turn-cost">{costLine(turn)}</dd>
          </div>
        </dl>
      </div>
    </li>
  );
}

export function TalkPage() {
  const [turns, setTurns] = useState<Turn[]>([]);
  const [voice, setVoice] = useState<string>('alloy');
  const [format, setFormat] = useState<string>('pcm16');
  const [text, setText] = useState('');
  const [maxTokens, setMaxTokens] = useState('');
  const [busy, setBusy] = useState(false);
  const [recording, setRecording] = useState(false);
  const [recordedMs, setRecordedMs] = useState(0);
  const [handsFree, setHandsFree] = useState(false);
  const [handsFreeState, setHandsFreeState] = useState<'off' | 'listening' | 'hearing' | 'waiting'>('off');
  const [note, setNote] = useState<string | null>(null);

  const history = useRef<Message[]>([]);
  const seq = useRef(0);
  const mic = useRef<Microphone | null>(null);
  const pressStart = useRef(0);
  const timer = useRef<number | undefined>(undefined);
  const busyRef = useRef(false);
  const player = useRef<PcmPlayer | null>(null);
  const settings = useRef({ voice, format, maxTokens });
  settings.current = { voice, format, maxTokens };

  const update = (id: number, patch: Partial<Turn> | ((t: Turn) => Partial<Turn>)) =>
    setTurns((all) => all.map((t) => (t.id === id ? { ...t, ...(typeof patch === 'function' ? patch(t) : patch) } : t)));

  useEffect(
    () => () => {
      window.clearInterval(timer.current);
      player.current?.stop();
      void mic.current?.close();
    },
    [],
  );

  /** One turn: the user's part (audio or text) out, the reply in. */
  async function runTurn(input: { kind: 'spoken'; wav: Uint8Array<ArrayBuffer> } | { kind: 'typed'; text: string }): Promise<void> {
    const { voice: v, format: f } = settings.current;
    const limit = Number.parseInt(settings.current.maxTokens, 10);
    const lengthParam = Number.isInteger(limit) && limit > 0 ? { max_completion_tokens: limit } : {};
    const id = ++seq.current;
    busyRef.current = true;
    setBusy(true);
    setNote(null);
    const userUrl = input.kind === 'spoken' ? URL.createObjectURL(new Blob([input.wav], { type: 'audio/wav' })) : null;
    setTurns((all) => [
      ...all,
      {
        id,
        kind: input.kind,
        status: 'running',
        heard: input.kind === 'typed' ? input.text : null,
        analysis: null,
        analysisNote: input.kind === 'typed' ? 'Typed: no voice to analyse.' : null,
        replyText: '',
        audioId: null,
        format: f,
        ttfaMs: null,
        usage: null,
        parleyUsd: null,
        play: 'waiting',
        replyUrl: null,
        userUrl,
        error: null,
      },
    ]);

    const b64 = input.kind === 'spoken' ? toBase64(input.wav) : '';
    const userMessage: Message =
      input.kind === 'spoken'
        ? { role: 'user', content: [{ type: 'input_audio', input_audio: { data: b64, format: 'wav' } }] }
        : { role: 'user', content: input.text };
    const messages = [...history.current, userMessage];

    // What was heard, and how: the same clip through the analysis endpoint. Asked once the reply
    // has streamed (while it plays), so that it does not compete with the reply for the CPU.
    const hear = (): Promise<void> =>
      input.kind === 'spoken'
        ? api()
            .post<AnalysisWire>('/audio/analysis', { body: { audio: b64, format: 'wav' } })
            .then((analysis) => update(id, { heard: analysis.text || '(nothing recognised)', analysis }))
            .catch((error: unknown) => update(id, { heard: '(not recognised)', analysisNote: `Analysis failed: ${errorMessage(error)}` }))
        : Promise.resolve();

    const started = performance.now();
    let playback: Promise<void> = Promise.resolve();
    try {
      let audioId: string | null = null;
      if (f === 'pcm16') {
        const p = new PcmPlayer(outputContext());
        player.current = p;
        const stream = await api().chat.completions.create({
          model: CHAT_MODEL,
          modalities: ['text', 'audio'],
          audio: { voice: v as 'alloy', format: 'pcm16' },
          messages,
          ...lengthParam,
          stream: true,
          stream_options: { include_usage: true },
        });
        const pcm: Uint8Array[] = [];
        let reply = '';
        for await (const chunk of stream) {
          if (chunk.usage) update(id, { usage: chunk.usage as ChatUsageWire, parleyUsd: parleyCostOf(chunk.usage) });
          const delta = chunk.choices[0]?.delta as { audio?: AudioDelta; content?: string | null } | undefined;
          const audio = delta?.audio;
          if (audio?.id) audioId ??= audio.id;
          if (audio?.transcript || delta?.content) {
            reply += audio?.transcript ?? delta?.content ?? '';
            update(id, { replyText: reply });
          }
          if (audio?.data) {
            const bytes = fromBase64(audio.data);
            if (pcm.length === 0) update(id, { ttfaMs: performance.now() - started, play: 'playing' });
            pcm.push(bytes);
            p.push(bytes);
          }
        }
        p.end();
        const all = concatBytes(pcm);
        const samples = new Float32Array(all.length >> 1);
        const view = new DataView(all.buffer, 0, samples.length * 2);
        for (let i = 0; i < samples.length; i++) samples[i] = view.getInt16(i * 2, true) / 0x8000;
        const replyUrl = pcm.length > 0 ? URL.createObjectURL(new Blob([encodeWav(samples, 24_000)], { type: 'audio/wav' })) : null;
        update(id, { replyUrl, audioId });
        playback = p.played().then(() => update(id, { play: pcm.length > 0 ? 'played' : 'waiting' }));
      } else {
        const res = await api().chat.completions.create({
          model: CHAT_MODEL,
          modalities: ['text', 'audio'],
          audio: { voice: v as 'alloy', format: f as 'wav' },
          messages,
          ...lengthParam,
        });
        const message = res.choices[0]?.message;
        audioId = message?.audio?.id ?? null;
        const bytes = message?.audio?.data ? fromBase64(message.audio.data) : null;
        const replyUrl = bytes ? URL.createObjectURL(new Blob([bytes], { type: AUDIO_MIME[f] ?? 'application/octet-stream' })) : null;
        update(id, {
          replyText: message?.audio?.transcript ?? message?.content ?? '',
          usage: (res.usage as ChatUsageWire | undefined) ?? null,
          parleyUsd: parleyCostOf(res.usage),
          ttfaMs: performance.now() - started,
          audioId,
          replyUrl,
          play: replyUrl ? 'playing' : 'waiting',
        });
        if (replyUrl) playback = playUrl(replyUrl).then(() => update(id, { play: 'played' }));
      }
      // The next turn refers to this reply by its id, as OpenAI's multi-turn audio does.
      history.current = [...messages, audioId ? { role: 'assistant', audio: { id: audioId } } : { role: 'assistant', content: '' }];
      await hear();
      update(id, { status: 'done' });
    } catch (error) {
      player.current?.stop();
      await hear();
      update(id, { status: 'failed', error: errorMessage(error), play: 'waiting' });
    } finally {
      // Hands-free listens again once the reply has been heard, so it does not hear itself.
      await playback;
      busyRef.current = false;
      setBusy(false);
    }
  }

  function playUrl(url: string): Promise<void> {
    return new Promise((resolve) => {
      const audio = new Audio(url);
      audio.onended = () => resolve();
      audio.onerror = () => resolve();
      audio.play().catch(() => resolve());
    });
  }

  function replay(turn: Turn): void {
    if (!turn.replyUrl) return;
    update(turn.id, { play: 'playing' });
    void playUrl(turn.replyUrl).then(() => update(turn.id, { play: 'played' }));
  }

  async function sendSamples(samples: Float32Array, rate: number): Promise<void> {
    if (samples.length / rate < MIN_CLIP_SEC) {
      setNote('That clip was too short: hold the button while you speak, or click once to start and again to stop.');
      return;
    }
    await runTurn({ kind: 'spoken', wav: encodeWav(samples, rate) });
  }

  async function startRecording(): Promise<void> {
    if (recording || busyRef.current) return;
    outputContext(); // unlock playback on this gesture
    setNote(null);
    try {
      const m = await Microphone.open();
      mic.current = m;
      m.startRecording();
      pressStart.current = performance.now();
      setRecording(true);
      setRecordedMs(0);
      timer.current = window.setInterval(() => setRecordedMs(Math.round(m.recordedSec * 1000)), 100);
    } catch (error) {
      setNote(`No microphone: ${errorMessage(error)}`);
    }
  }

  async function stopRecording(): Promise<void> {
    const m = mic.current;
    if (!m) return;
    mic.current = null;
    window.clearInterval(timer.current);
    setRecording(false);
    const samples = m.stopRecording();
    setRecordedMs(Math.round((samples.length / m.sampleRate) * 1000));
    const rate = m.sampleRate;
    await m.close();
    await sendSamples(samples, rate);
  }

  async function toggleHandsFree(on: boolean): Promise<void> {
    setHandsFree(on);
    if (!on) {
      const m = mic.current;
      mic.current = null;
      setHandsFreeState('off');
      await m?.close();
      return;
    }
    outputContext();
    try {
      let vad: EnergyVad | undefined;
      const m = await Microphone.open((block) => {
        if (!vad) return;
        if (busyRef.current) {
          setHandsFreeState('waiting');
          return;
        }
        for (const event of vad.push(block)) {
          if (event.type === 'start') setHandsFreeState('hearing');
          else if (event.type === 'discard') setHandsFreeState('listening');
          else if (event.type === 'end') {
            setHandsFreeState('waiting');
            void sendSamples(event.audio, m.sampleRate).finally(() => setHandsFreeState('listening'));
          }
        }
      });
      vad = new EnergyVad({ sampleRate: m.sampleRate });
      mic.current = m;
      setHandsFreeState('listening');
    } catch (error) {
      setHandsFree(false);
      setNote(`No microphone: ${errorMessage(error)}`);
    }
  }

  async function sendFile(file: File): Promise<void> {
    outputContext();
    try {
      const samples = await decodeToMono16k(file);
      await sendSamples(samples, 16_000);
    } catch (error) {
      setNote(`Could not read ${file.name} as audio: ${errorMessage(error)}`);
    }
  }

  function newConversation(): void {
    player.current?.stop();
    history.current = [];
    setTurns([]);
  }

  const recordLabel = recording ? `Stop and send (${(recordedMs / 1000).toFixed(1)} s)` : 'Press to talk';
  const handsFreeText = { off: '', listening: 'Listening: just talk.', hearing: 'Hearing you…', waiting: 'Answering…' }[handsFreeState];

  return (
    <div class="talk">
      <section class="card controls" aria-label="Conversation settings">
        <div class="row wrap">
          <Select id="talk-voice" label="Voice" value={voice} options={VOICES} onChange={setVoice} />
          <Select
            id="talk-format"
            label="Reply audio"
            value={format}
            options={CHAT_AUDIO_FORMATS}
            describe={(f) => (f === 'pcm16' ? 'pcm16 (streamed)' : `${f} (whole reply)`)}
            onChange={setFormat}
          />
          <div class="field">
            <label for="talk-max-tokens">Longest reply (tokens)</label>
            <input
              id="talk-max-tokens"
              type="number"
              min={1}
              inputMode="numeric"
              placeholder="no limit"
              value={maxTokens}
              onInput={(e) => setMaxTokens(e.currentTarget.value)}
            />
          </div>
          <button type="button" onClick={newConversation} disabled={busy || turns.length === 0}>
            New conversation
          </button>
        </div>
      </section>

      <section class="card" aria-label="Speak">
        <div class="row wrap">
          <button
            type="button"
            class={`record${recording ? ' on' : ''}`}
            data-testid="talk-record"
            data-recorded-ms={recordedMs}
            aria-pressed={recording}
            disabled={handsFree || (busy && !recording)}
            onPointerDown={(e) => {
              if (e.button !== 0) return;
              if (recording) void stopRecording();
              else void startRecording();
            }}
            onPointerUp={() => {
              // Held down: release sends (press to talk). A short click keeps recording (toggle).
              if (mic.current && !handsFree && performance.now() - pressStart.current > 600) void stopRecording();
            }}
            onClick={(e) => {
              // Keyboard (Enter/Space) arrives as a click with no pointer: toggle.
              if (e.detail !== 0) return;
              if (recording) void stopRecording();
              else void startRecording();
            }}
          >
            {recordLabel}
          </button>
          <label class="check">
            <input type="checkbox" checked={handsFree} disabled={recording} onChange={(e) => void toggleHandsFree(e.currentTarget.checked)} />
            Hands-free (voice activity detection)
          </label>
          <label class="file">
            <span>Send an audio file</span>
            <input
              type="file"
              accept="audio/*,.wav,.mp3,.ogg,.webm,.flac,.m4a"
              disabled={busy}
              onChange={(e) => {
                const file = e.currentTarget.files?.[0];
                e.currentTarget.value = '';
                if (file) void sendFile(file);
              }}
            />
          </label>
        </div>
        <p class="muted small" aria-live="polite">
          {handsFree
            ? handsFreeText
            : recording
              ? 'Recording… release (or click again) to send.'
              : 'Hold the button while you speak, or click to start and stop.'}
        </p>
        <form
          class="row"
          onSubmit={(e) => {
            e.preventDefault();
            const t = text.trim();
            if (!t || busy) return;
            outputContext();
            setText('');
            void runTurn({ kind: 'typed', text: t });
          }}
        >
          <label for="talk-text">Or type</label>
          <input id="talk-text" data-testid="talk-text" type="text" value={text} onInput={(e) => setText(e.currentTarget.value)} autocomplete="off" />
          <button type="submit" data-testid="talk-send" disabled={busy || !text.trim()}>
            Send
          </button>
        </form>
        {note ? (
          <p role="alert" class="error">
            {note}
          </p>
        ) : null}
      </section>

      {turns.length > 0 ? (
        <section aria-label="Conversation">
          <h2 class="visually-hidden">Conversation</h2>
          <ol class="turns">
            {turns.map((t) => (
              <TurnView key={t.id} turn={t} onReplay={replay} />
            ))}
          </ol>
        </section>
      ) : (
        <p class="muted">
          Talk to Parley: hold the button and speak, turn on hands-free mode, send a file, or type. Each turn shows what was heard, how it sounded, the reply,
          how soon its audio started and what it would have cost at OpenAI.
        </p>
      )}
    </div>
  );
}
