/** Models: what serves each capability, what is missing, and pulls with progress. */
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, errorMessage } from '../api/client.js';
import { cancelPull, listModels, type ModelsWire, type PullEventWire, pullModel } from '../api/models.js';
import { ErrorNote, formatBytes, ProgressBar } from '../ui/fields.js';

const CAPABILITY_NAMES: Record<string, string> = {
  chat: 'Chat (language model)',
  transcription: 'Speech recognition',
  speech: 'Speech synthesis',
  vad: 'Voice activity detection',
  voice_analysis: 'Voice analysis',
};

export function ModelsPage() {
  const [models, setModels] = useState<ModelsWire | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [pulls, setPulls] = useState<Record<string, PullEventWire | { error: string } | { done: true }>>({});
  const aborts = useRef(new Map<string, AbortController>());

  async function refresh(): Promise<void> {
    try {
      setModels(await listModels(api()));
    } catch (e) {
      setError(errorMessage(e));
    }
  }

  useEffect(() => {
    void refresh();
    const followers = aborts.current;
    return () => {
      // Leaving the page stops following; the download goes on on the server.
      for (const a of followers.values()) a.abort();
    };
  }, []);

  // Pulls started elsewhere (another tab, the CLI) are followed too.
  useEffect(() => {
    for (const m of models?.data ?? []) if (m.pulling && !aborts.current.has(m.name)) void pull(m.name);
  }, [models]);

  async function pull(name: string): Promise<void> {
    const abort = new AbortController();
    aborts.current.set(name, abort);
    setPulls((p) => ({ ...p, [name]: { model: name, status: 'downloading', bytes_done: 0, bytes_total: null, file: '' } }));
    try {
      for await (const event of pullModel(api(), name, abort.signal)) setPulls((p) => ({ ...p, [name]: event }));
      setPulls((p) => ({ ...p, [name]: { done: true } }));
    } catch (e) {
      if (!abort.signal.aborted) setPulls((p) => ({ ...p, [name]: { error: errorMessage(e) } }));
    } finally {
      aborts.current.delete(name);
      if (!abort.signal.aborted) void refresh();
    }
  }

  async function cancel(name: string): Promise<void> {
    try {
      await cancelPull(api(), name);
    } catch (e) {
      setError(errorMessage(e));
    }
  }

  const pullButton = (name: string, label: string) => {
    const state = pulls[name];
    const running = state !== undefined && 'status' in state;
    return (
      <button type="button" key={name} disabled={running || models?.offline} onClick={() => void pull(name)}>
        {label}
      </button>
    );
  };

  return (
    <div class="models">
      <ErrorNote>{error}</ErrorNote>
      {models?.offline ? (
        <p class="note">This server runs offline (PARLEY_OFFLINE=1): it cannot download models. Copy them into its model folder instead.</p>
      ) : null}
      {models ? (
        <>
          <section aria-labelledby="caps">
            <h2 id="caps">What serves what</h2>
            <div class="table-wrap">
              <table data-testid="capabilities">
                <thead>
                  <tr>
                    <th scope="col">Capability</th>
                    <th scope="col">Engine</th>
                    <th scope="col">Model</th>
                    <th scope="col">State</th>
                    <th scope="col">What to do</th>
                  </tr>
                </thead>
                <tbody>
                  {models.capabilities.map((c) => (
                    <tr key={c.capability} data-capability={c.capability} data-state={c.state}>
                      <th scope="row">{CAPABILITY_NAMES[c.capability] ?? c.capability}</th>
                      <td>
                        {c.engine}
                        {c.configured !== c.engine ? <span class="muted small"> ({c.configured})</span> : null}
                      </td>
                      <td>{c.model ?? <span class="muted">ships with Parley</span>}</td>
                      <td>
                        <span class={`status status-${c.state}`}>{c.state}</span>
                        <div class="small">{c.detail}</div>
                        <div class="small muted">{c.reason}</div>
                      </td>
                      <td>
                        {c.pull.map((m) => pullButton(m, `Pull ${m}`))}
                        {c.upgrades.map((u) => (
                          <div key={u.model} class="small">
                            Better: {u.model} — {u.note}
                          </div>
                        ))}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </section>
          <section aria-labelledby="cat">
            <h2 id="cat">Models on this machine and in the catalogue</h2>
            <ul class="model-list">
              {models.data.map((m) => {
                const state = pulls[m.name];
                return (
                  <li key={m.name} class="card" data-testid="model" data-model={m.name}>
                    <div class="row wrap spread">
                      <strong>{m.name}</strong>
                      <span class={`status status-${m.installed ? 'ready' : m.partial ? 'partial' : 'missing'}`}>
                        {m.installed ? 'installed' : m.partial ? 'partly downloaded' : 'not installed'}
                      </span>
                    </div>
                    <p class="small">
                      {m.kind ? `${m.kind} · ${m.engine} · ` : ''}
                      {m.size_bytes !== null ? formatBytes(m.size_bytes) : formatBytes(m.size_on_disk_bytes)}
                      {m.licence ? ` · ${m.licence}` : ''}
                      {m.description ? ` — ${m.description}` : ''}
                    </p>
                    {state && 'status' in state ? (
                      <div class="row wrap">
                        <ProgressBar
                          label={`Download of ${m.name}`}
                          testid="pull-progress"
                          value={state.bytes_done}
                          max={state.bytes_total}
                          text={`${formatBytes(state.bytes_done)}${state.bytes_total ? ` of ${formatBytes(state.bytes_total)}` : ''}${state.file ? ` · ${state.file}` : ''}`}
                        />
                        <button type="button" onClick={() => void cancel(m.name)}>
                          Stop
                        </button>
                      </div>
                    ) : null}
                    {state && 'error' in state ? <ErrorNote>{state.error}</ErrorNote> : null}
                    {m.catalogued && !m.installed && !(state && 'status' in state) ? pullButton(m.name, m.partial ? 'Resume download' : 'Pull') : null}
                  </li>
                );
              })}
            </ul>
          </section>
        </>
      ) : error ? null : (
        <p aria-live="polite">Loading…</p>
      )}
    </div>
  );
}
