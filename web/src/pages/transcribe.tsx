/**
 * Transcribe: a file or a recording → `/v1/audio/transcriptions` (verbose_json with word
 * timestamps); the word being spoken is highlighted while the audio plays; SRT and WebVTT come
 * from the same endpoint for download.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, download, errorMessage } from '../api/client.js';
import { TRANSCRIPTION_MODELS } from '../api/names.js';
import { Microphone } from '../audio/capture.js';
import { encodeWav } from '../audio/wav.js';
import { type Word, wordAt } from '../audio/words.js';
import { ErrorNote, Select } from '../ui/fields.js';

interface Result {
  text: string;
  language?: string;
  duration?: number;
  words: Word[];
}

export function TranscribePage() {
  const [file, setFile] = useState<File | null>(null);
  const [fileUrl, setFileUrl] = useState<string | null>(null);
  const [model, setModel] = useState<string>('whisper-1');
  const [language, setLanguage] = useState('');
  const [running, setRunning] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [result, setResult] = useState<Result | null>(null);
  const [current, setCurrent] = useState(-1);
  const [recording, setRecording] = useState(false);
  const audio = useRef<HTMLAudioElement>(null);
  const mic = useRef<Microphone | null>(null);
  const frame = useRef(0);

  useEffect(() => () => void (fileUrl && URL.revokeObjectURL(fileUrl)), [fileUrl]);
  useEffect(
    () => () => {
      cancelAnimationFrame(frame.current);
      void mic.current?.close();
    },
    [],
  );

  function choose(f: File | null): void {
    setFile(f);
    setResult(null);
    setCurrent(-1);
    setFileUrl(f ? URL.createObjectURL(f) : null);
  }

  async function transcribe(): Promise<void> {
    if (!file) return;
    setRunning(true);
    setError(null);
    try {
      const res = (await api().audio.transcriptions.create({
        file,
        model,
        response_format: 'verbose_json',
        timestamp_granularities: ['word'],
        ...(language.trim() ? { language: language.trim() } : {}),
      })) as unknown as { text: string; language?: string; duration?: number; words?: Word[] };
      setResult({ text: res.text, language: res.language, duration: res.duration, words: res.words ?? [] });
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setRunning(false);
    }
  }

  async function subtitles(format: 'srt' | 'vtt'): Promise<void> {
    if (!file) return;
    setError(null);
    try {
      const text = (await api().audio.transcriptions.create({
        file,
        model,
        response_format: format,
        ...(language.trim() ? { language: language.trim() } : {}),
      })) as unknown as string;
      const base = file.name.replace(/\.[^.]+$/, '') || 'transcript';
      download(new Blob([text], { type: format === 'vtt' ? 'text/vtt' : 'application/x-subrip' }), `${base}.${format}`);
    } catch (e) {
      setError(errorMessage(e));
    }
  }

  async function toggleRecording(): Promise<void> {
    if (recording) {
      const m = mic.current;
      mic.current = null;
      setRecording(false);
      if (!m) return;
      const samples = m.stopRecording();
      const rate = m.sampleRate;
      await m.close();
      choose(new File([encodeWav(samples, rate)], 'recording.wav', { type: 'audio/wav' }));
      return;
    }
    setError(null);
    try {
      const m = await Microphone.open();
      m.startRecording();
      mic.current = m;
      setRecording(true);
    } catch (e) {
      setError(`No microphone: ${errorMessage(e)}`);
    }
  }

  // requestAnimationFrame while playing: timeupdate fires only a few times a second.
  function follow(): void {
    const el = audio.current;
    if (!el || !result) return;
    setCurrent(wordAt(result.words, el.currentTime));
    if (!el.paused && !el.ended) frame.current = requestAnimationFrame(follow);
  }

  return (
    <div class="transcribe">
      <section class="card" aria-label="Audio to transcribe">
        <div class="row wrap">
          <div class="field">
            <label for="transcribe-file">Audio file</label>
            <input
              id="transcribe-file"
              type="file"
              accept="audio/*,video/mp4,.wav,.mp3,.flac,.m4a,.ogg,.webm"
              onChange={(e) => choose(e.currentTarget.files?.[0] ?? null)}
            />
          </div>
          <button type="button" aria-pressed={recording} onClick={() => void toggleRecording()}>
            {recording ? 'Stop recording' : 'Record from the microphone'}
          </button>
        </div>
        <div class="row wrap">
          <Select id="transcribe-model" label="Model" value={model} options={TRANSCRIPTION_MODELS} onChange={setModel} />
          <div class="field">
            <label for="transcribe-language">Language (optional, e.g. en)</label>
            <input id="transcribe-language" type="text" size={6} value={language} onInput={(e) => setLanguage(e.currentTarget.value)} />
          </div>
        </div>
        <div class="row wrap">
          <button type="button" data-testid="transcribe-go" disabled={!file || running} onClick={() => void transcribe()}>
            {running ? 'Transcribing…' : 'Transcribe'}
          </button>
          <button type="button" disabled={!file} onClick={() => void subtitles('srt')}>
            Download SRT
          </button>
          <button type="button" disabled={!file} onClick={() => void subtitles('vtt')}>
            Download WebVTT
          </button>
        </div>
        <ErrorNote>{error}</ErrorNote>
      </section>
      {fileUrl ? (
        <section class="card" aria-labelledby="transcript-title">
          <h2 id="transcript-title">Transcript</h2>
          <audio
            ref={audio}
            controls
            src={fileUrl}
            aria-label="The audio"
            onPlay={() => follow()}
            onSeeked={() => follow()}
            onPause={() => cancelAnimationFrame(frame.current)}
          >
            <track kind="captions" />
          </audio>
          {result ? (
            <>
              <p class="muted small">
                {result.language ? `Language ${result.language}` : ''}
                {result.duration !== undefined ? `, ${result.duration.toFixed(1)} s` : ''}. Select a word to play from there.
              </p>
              {result.words.length > 0 ? (
                <p class="words" data-testid="transcript-text">
                  {result.words.map((w, i) => (
                    <button
                      key={`${i}-${w.start}`}
                      type="button"
                      class={`word${i === current ? ' now' : ''}`}
                      aria-current={i === current ? 'true' : undefined}
                      title={`${w.start.toFixed(2)}–${w.end.toFixed(2)} s`}
                      onClick={() => {
                        const el = audio.current;
                        if (!el) return;
                        el.currentTime = w.start;
                        void el.play();
                      }}
                    >
                      {w.word}
                    </button>
                  ))}
                </p>
              ) : (
                <p data-testid="transcript-text">{result.text || '(nothing recognised)'}</p>
              )}
            </>
          ) : null}
        </section>
      ) : null}
    </div>
  );
}
