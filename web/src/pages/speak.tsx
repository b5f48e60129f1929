/**
 * Speak: `/v1/audio/speech` with every voice, speed and format. The response body is read as it
 * streams: wav and pcm play through Web Audio from the first slice, mp3 through Media Source
 * where the browser has it; other formats play once complete. The file is then offered for
 * download.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, download, errorMessage } from '../api/client.js';
import { SPEECH_FORMATS, SPEECH_MODELS, VOICES } from '../api/names.js';
import { outputContext, PcmPlayer } from '../audio/player.js';
import { AUDIO_MIME, concatBytes, encodeWav, pcm16ToFloat, wavHeader } from '../audio/wav.js';
import { ErrorNote, formatBytes, Select } from '../ui/fields.js';

type Format = (typeof SPEECH_FORMATS)[number];

interface Result {
  blob: Blob;
  /** What the <audio> element plays (raw pcm is wrapped in a WAV header for it). */
  playable: string;
  format: Format;
  ttfaMs: number | null;
  totalMs: number;
}

/** Plays an mp3 stream as it arrives through Media Source Extensions. */
class MseMp3 {
  private readonly audio = new Audio();
  private readonly source = new MediaSource();
  private buffer: SourceBuffer | undefined;
  private queue: Uint8Array<ArrayBuffer>[] = [];
  private ended = false;
  readonly finished: Promise<void>;

  constructor() {
    this.audio.src = URL.createObjectURL(this.source);
    this.finished = new Promise((resolve) => {
      this.audio.onended = () => resolve();
      this.audio.onerror = () => resolve();
    });
    this.source.addEventListener('sourceopen', () => {
      this.buffer = this.source.addSourceBuffer('audio/mpeg');
      this.buffer.addEventListener('updateend', () => this.pump());
      this.pump();
    });
  }

  static supported(): boolean {
    return typeof MediaSource !== 'undefined' && MediaSource.isTypeSupported('audio/mpeg');
  }

  push(bytes: Uint8Array<ArrayBuffer>): void {
    this.queue.push(bytes);
    this.pump();
    if (this.audio.paused) void this.audio.play().catch(() => {});
  }

  end(): void {
    this.ended = true;
    this.pump();
  }

  stop(): void {
    this.audio.pause();
  }

  private pump(): void {
    if (!this.buffer || this.buffer.updating) return;
    const next = this.queue.shift();
    if (next) this.buffer.appendBuffer(next);
    else if (this.ended && this.source.readyState === 'open') this.source.endOfStream();
  }
}

export function SpeakPage() {
  const [input, setInput] = useState('Hello from Parley. This voice was made on your own machine.');
  const [voice, setVoice] = useState<string>('alloy');
  const [model, setModel] = useState<string>('tts-1');
  const [format, setFormat] = useState<Format>('wav');
  const [speed, setSpeed] = useState(1);
  const [instructions, setInstructions] = useState('');
  const [running, setRunning] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [result, setResult] = useState<Result | null>(null);
  const [progress, setProgress] = useState<{ bytes: number; ttfaMs: number | null } | null>(null);
  const stopper = useRef<(() => void) | null>(null);

  useEffect(() => () => stopper.current?.(), []);
  useEffect(() => () => void (result && URL.revokeObjectURL(result.playable)), [result]);

  async function speak(): Promise<void> {
    stopper.current?.();
    setRunning(true);
    setError(null);
    setResult(null);
    const abort = new AbortController();
    const started = performance.now();
    let ttfaMs: number | null = null;
    const parts: Uint8Array<ArrayBuffer>[] = [];
    let pcm: PcmPlayer | undefined;
    let mse: MseMp3 | undefined;
    stopper.current = () => {
      abort.abort();
      pcm?.stop();
      mse?.stop();
    };
    try {
      const res = await api().audio.speech.create(
        {
          model,
          voice: voice as 'alloy',
          input,
          response_format: format,
          speed,
          ...(instructions.trim() ? { instructions: instructions.trim() } : {}),
        },
        { signal: abort.signal },
      );
      if (format === 'pcm' || format === 'wav') pcm = new PcmPlayer(outputContext());
      else if (format === 'mp3' && MseMp3.supported()) mse = new MseMp3();
      const reader = res.body!.getReader();
      let header: ReturnType<typeof wavHeader> = null;
      let pending = new Uint8Array(0);
      let received = 0;
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        const chunk = new Uint8Array(value);
        parts.push(chunk);
        received += chunk.length;
        ttfaMs ??= performance.now() - started;
        setProgress({ bytes: received, ttfaMs });
        if (pcm && format === 'pcm') pcm.push(chunk);
        else if (pcm) {
          // WAV: the samples start after the header, which may span slices.
          if (!header) {
            pending = concatBytes([pending, chunk]);
            header = wavHeader(pending);
            if (header) pcm.push(pending.subarray(header.dataOffset));
          } else pcm.push(chunk);
        } else if (mse) mse.push(chunk);
      }
      pcm?.end();
      mse?.end();
      const bytes = concatBytes(parts);
      const blob = new Blob([bytes], { type: AUDIO_MIME[format] });
      const playable = URL.createObjectURL(format === 'pcm' ? new Blob([encodeWav(pcm16ToFloat(bytes), 24_000)], { type: 'audio/wav' }) : blob);
      setResult({ blob, playable, format, ttfaMs, totalMs: performance.now() - started });
      if (!pcm && !mse) void new Audio(playable).play().catch(() => {});
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setRunning(false);
      setProgress(null);
    }
  }

  return (
    <div class="speak">
      <form
        class="card"
        onSubmit={(e) => {
          e.preventDefault();
          if (input.trim()) void speak();
        }}
      >
        <div class="field">
          <label for="speak-input">Text</label>
          <textarea id="speak-input" data-testid="speak-input" rows={4} maxLength={4096} value={input} onInput={(e) => setInput(e.currentTarget.value)} />
        </div>
        <div class="row wrap">
          <Select id="speak-voice" testid="speak-voice" label="Voice" value={voice} options={VOICES} onChange={setVoice} />
          <Select id="speak-model" label="Model" value={model} options={SPEECH_MODELS} onChange={setModel} />
          <Select id="speak-format" testid="speak-format" label="Format" value={format} options={SPEECH_FORMATS} onChange={setFormat} />
          <div class="field">
            <label for="speak-speed">Speed</label>
            <div class="row">
              <input
                id="speak-speed"
                type="range"
                min={0.25}
                max={4}
                step={0.05}
                value={speed}
                aria-valuetext={`${speed.toFixed(2)} times`}
                onInput={(e) => setSpeed(Number(e.currentTarget.value))}
              />
              <output for="speak-speed">{speed.toFixed(2)}×</output>
            </div>
          </div>
        </div>
        <div class="field">
          <label for="speak-instructions">Instructions (gpt-4o-mini-tts)</label>
          <input id="speak-instructions" type="text" value={instructions} onInput={(e) => setInstructions(e.currentTarget.value)} />
        </div>
        <div class="row">
          <button type="submit" data-testid="speak-go" disabled={running || !input.trim()}>
            {running ? 'Speaking…' : 'Speak'}
          </button>
          {running ? (
            <button type="button" onClick={() => stopper.current?.()}>
              Stop
            </button>
          ) : null}
          <span class="muted small" aria-live="polite">
            {progress
              ? `${formatBytes(progress.bytes)} received${progress.ttfaMs !== null ? `, first audio after ${Math.round(progress.ttfaMs)} ms` : ''}`
              : ''}
          </span>
        </div>
        <ErrorNote>{error}</ErrorNote>
      </form>
      {result ? (
        <section class="card" aria-labelledby="speak-result">
          <h2 id="speak-result">Result</h2>
          <audio data-testid="speak-audio" controls src={result.playable} aria-label="Synthesised speech">
            <track kind="captions" />
          </audio>
          <p class="muted small">
            {result.format}, {formatBytes(result.blob.size)}; first audio after {result.ttfaMs === null ? '—' : `${Math.round(result.ttfaMs)} ms`}, complete
            after {Math.round(result.totalMs)} ms.
          </p>
          <button type="button" data-testid="speak-download" onClick={() => download(result.blob, `speech.${result.format}`)}>
            Download {result.format}
          </button>
        </section>
      ) : null}
    </div>
  );
}
