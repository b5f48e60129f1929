/**
 * Batches: OpenAI's Files and Batch APIs through the SDK. A JSONL file is dropped (or built here
 * from a folder of audio files), uploaded with purpose `batch`, and run; the list follows every
 * batch live (lines done, ETA) and offers its output and error files.
 */
import type OpenAI from 'openai';
import { useEffect, useRef, useState } from 'preact/hooks';
import { type Draft, etaSec, inspectJsonl } from '../api/batch-lines.js';
import { api, download, errorMessage } from '../api/client.js';
import { CHAT_MODEL } from '../api/names.js';
import { toBase64 } from '../audio/wav.js';
import { ErrorNote, formatDuration, ProgressBar, Select } from '../ui/fields.js';

type Batch = OpenAI.Batches.Batch;
const WINDOWS = ['24h', '2h', '30m', '3d'] as const;
const ACTIVE = new Set(['validating', 'in_progress', 'finalizing', 'cancelling']);
const AUDIO_NAME = /\.(wav|mp3|flac|m4a|mp4|ogg|oga|webm)$/i;

/** One request line per audio file: transcription, or a chat turn that answers the clip. */
async function linesFromAudio(files: readonly File[], endpoint: '/v1/audio/transcriptions' | '/v1/chat/completions'): Promise<string> {
  const out: string[] = [];
  const used = new Set<string>();
  for (const file of files) {
    const path = (file as File & { webkitRelativePath?: string }).webkitRelativePath || file.name;
    let id = path;
    for (let n = 2; used.has(id); n++) id = `${path}#${n}`;
    used.add(id);
    const b64 = toBase64(new Uint8Array(await file.arrayBuffer()));
    const ext = file.name.split('.').pop()!.toLowerCase();
    const body =
      endpoint === '/v1/audio/transcriptions'
        ? { model: 'whisper-1', file: b64, filename: file.name, response_format: 'verbose_json' }
        : {
            model: CHAT_MODEL,
            modalities: ['text'],
            messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: { data: b64, format: ext === 'mp3' ? 'mp3' : 'wav' } }] }],
          };
    out.push(JSON.stringify({ custom_id: id, method: 'POST', url: endpoint, body }));
  }
  return `${out.join('\n')}\n`;
}

function doneOf(b: Batch): { done: number; total: number } {
  const c = b.request_counts;
  return { done: (c?.completed ?? 0) + (c?.failed ?? 0), total: c?.total ?? 0 };
}

function BatchRow({ batch, onChange }: { batch: Batch; onChange: () => void }) {
  const [error, setError] = useState<string | null>(null);
  const { done, total } = doneOf(batch);
  const eta = ACTIVE.has(batch.status) ? etaSec(batch, Date.now() / 1000) : null;
  const counts = `${done} of ${total} lines${batch.request_counts?.failed ? ` (${batch.request_counts.failed} failed)` : ''}`;
  const fetchFile = async (fileId: string, name: string) => {
    try {
      const res = await api().files.content(fileId);
      download(new Blob([await res.arrayBuffer()], { type: 'application/jsonl' }), name);
    } catch (e) {
      setError(errorMessage(e));
    }
  };
  return (
    <li class="card batch" data-testid="batch" data-status={batch.status} data-batch-id={batch.id}>
      <div class="row wrap spread">
        <strong>{batch.id}</strong>
        <span class={`status status-${batch.status}`} data-testid="batch-status">
          {batch.status}
        </span>
      </div>
      <p class="muted small">
        {batch.endpoint} · created {new Date(batch.created_at * 1000).toLocaleString()}
      </p>
      <ProgressBar
        label={`Progress of ${batch.id}`}
        testid="batch-progress"
        value={done}
        max={total || null}
        text={`${counts}${eta !== null ? `, about ${formatDuration(eta)} left` : ''}`}
      />
      <div class="row wrap">
        {ACTIVE.has(batch.status) && batch.status !== 'cancelling' ? (
          <button
            type="button"
            onClick={async () => {
              try {
                await api().batches.cancel(batch.id);
                onChange();
              } catch (e) {
                setError(errorMessage(e));
              }
            }}
          >
            Cancel
          </button>
        ) : null}
        {batch.output_file_id ? (
          <button type="button" data-testid="batch-output" onClick={() => void fetchFile(batch.output_file_id!, `${batch.id}-output.jsonl`)}>
            Download output
          </button>
        ) : null}
        {batch.error_file_id ? (
          <button type="button" data-testid="batch-errors" onClick={() => void fetchFile(batch.error_file_id!, `${batch.id}-errors.jsonl`)}>
            Download errors
          </button>
        ) : null}
      </div>
      {batch.errors?.data?.length ? (
        <details>
          <summary>{batch.errors.data.length} problems in the input</summary>
          <ul>
            {batch.errors.data.slice(0, 20).map((e, i) => (
              <li key={i}>
                {e.line ? `line ${e.line}: ` : ''}
                {e.message}
              </li>
            ))}
          </ul>
        </details>
      ) : null}
      <ErrorNote>{error}</ErrorNote>
    </li>
  );
}

export function BatchesPage() {
  const [draft, setDraft] = useState<Draft | null>(null);
  const [audioEndpoint, setAudioEndpoint] = useState<'/v1/audio/transcriptions' | '/v1/chat/completions'>('/v1/audio/transcriptions');
  const [window_, setWindow] = useState<(typeof WINDOWS)[number]>('24h');
  const [batches, setBatches] = useState<Batch[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [dragging, setDragging] = useState(false);
  const tick = useRef(0);

  async function refresh(): Promise<void> {
    try {
      const page = await api().batches.list({ limit: 20 });
      setBatches(page.data);
    } catch (e) {
      setError(errorMessage(e));
    }
  }

  // Poll while something runs; every 1 s is cheap (one small request).
  useEffect(() => {
    void refresh();
    const timer = window.setInterval(() => {
      tick.current++;
      if (batches.some((b) => ACTIVE.has(b.status)) || tick.current % 10 === 0) void refresh();
    }, 1000);
    return () => window.clearInterval(timer);
  }, [batches]);

  async function takeJsonl(file: File): Promise<void> {
    setError(null);
    setDraft(inspectJsonl(file.name, await file.text()));
  }

  async function takeAudio(files: readonly File[]): Promise<void> {
    setError(null);
    const audio = files.filter((f) => AUDIO_NAME.test(f.name)).sort((a, b) => a.name.localeCompare(b.name));
    if (audio.length === 0) {
      setError('No audio files (wav, mp3, flac, m4a, ogg, webm) in that selection.');
      return;
    }
    setBusy(true);
    try {
      const text = await linesFromAudio(audio, audioEndpoint);
      setDraft(inspectJsonl(`${audio.length} audio files`, text));
    } finally {
      setBusy(false);
    }
  }

  async function create(): Promise<void> {
    if (!draft?.endpoint) return;
    setBusy(true);
    setError(null);
    try {
      const name = draft.name.endsWith('.jsonl') ? draft.name : 'batch.jsonl';
      const file = await api().files.create({ file: new File([draft.text], name, { type: 'application/jsonl' }), purpose: 'batch' });
      await api().batches.create({ input_file_id: file.id, endpoint: draft.endpoint as '/v1/chat/completions', completion_window: window_ as '24h' });
      setDraft(null);
      await refresh();
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div class="batches">
      <section class="card" aria-labelledby="new-batch">
        <h2 id="new-batch">New batch</h2>
        {/* biome-ignore lint/a11y/noStaticElementInteractions: the drop zone is an extra; the file inputs inside do the same by keyboard */}
        <div
          class={`drop${dragging ? ' over' : ''}`}
          onDragOver={(e) => {
            e.preventDefault();
            setDragging(true);
          }}
          onDragLeave={() => setDragging(false)}
          onDrop={(e) => {
            e.preventDefault();
            setDragging(false);
            const files = [...(e.dataTransfer?.files ?? [])];
            const jsonl = files.find((f) => /\.jsonl?$/i.test(f.name));
            if (jsonl) void takeJsonl(jsonl);
            else void takeAudio(files);
          }}
        >
          <p>Drop a JSONL file of requests here, or audio files to build one.</p>
          <div class="row wrap">
            <div class="field">
              <label for="batch-jsonl">JSONL file</label>
              <input
                id="batch-jsonl"
                data-testid="batch-jsonl"
                type="file"
                accept=".jsonl,.json,application/jsonl,application/x-ndjson"
                onChange={(e) => {
                  const f = e.currentTarget.files?.[0];
                  if (f) void takeJsonl(f);
                }}
              />
            </div>
            <div class="field">
              <label for="batch-folder">Or a folder of audio files</label>
              <input id="batch-folder" type="file" multiple {...{ webkitdirectory: '' }} onChange={(e) => void takeAudio([...(e.currentTarget.files ?? [])])} />
            </div>
            <Select
              id="batch-audio-endpoint"
              label="Audio files become"
              value={audioEndpoint}
              options={['/v1/audio/transcriptions', '/v1/chat/completions'] as const}
              describe={(e) => (e === '/v1/audio/transcriptions' ? 'transcriptions' : 'chat turns (answers)')}
              onChange={setAudioEndpoint}
            />
          </div>
        </div>
        {draft ? (
          <div class="draft" data-testid="batch-draft">
            <p>
              <strong>{draft.name}</strong>: {draft.lines} request{draft.lines === 1 ? '' : 's'}
              {draft.endpoint ? ` to ${draft.endpoint}` : ''}.
            </p>
            <ErrorNote>{draft.problem}</ErrorNote>
            <div class="row wrap">
              <Select id="batch-window" label="Completion window" value={window_} options={WINDOWS} onChange={setWindow} />
              <button type="button" data-testid="batch-create" disabled={busy || !draft.endpoint} onClick={() => void create()}>
                {busy ? 'Creating…' : 'Create batch'}
              </button>
              <button type="button" onClick={() => setDraft(null)}>
                Discard
              </button>
            </div>
          </div>
        ) : null}
        <ErrorNote>{error}</ErrorNote>
      </section>
      <section aria-labelledby="batch-list">
        <h2 id="batch-list">Batches</h2>
        {batches.length === 0 ? <p class="muted">No batches yet.</p> : null}
        <ol class="batch-list">
          {batches.map((b) => (
            <BatchRow key={b.id} batch={b} onChange={() => void refresh()} />
          ))}
        </ol>
      </section>
    </div>
  );
}
