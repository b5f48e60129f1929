import { useEffect, useRef, useState } from 'preact/hooks';
import { auth, forgetKey, probeAuth, storedKey, storeKey } from './api/client.js';
import { BatchesPage } from './pages/batches.js';
import { ModelsPage } from './pages/models.js';
import { SpeakPage } from './pages/speak.js';
import { TalkPage } from './pages/talk.js';
import { TranscribePage } from './pages/transcribe.js';
import { UsagePage } from './pages/usage.js';
import { signal, useSignal } from './ui/store.js';

/** The page's own paths; the server answers them with this page (see src/http/routes/web.ts). */
const PAGES = [
  { path: '/talk', title: 'Talk', component: TalkPage },
  { path: '/speak', title: 'Speak', component: SpeakPage },
  { path: '/transcribe', title: 'Transcribe', component: TranscribePage },
  { path: '/batches', title: 'Batches', component: BatchesPage },
  { path: '/usage', title: 'Usage', component: UsagePage },
  { path: '/models', title: 'Models', component: ModelsPage },
] as const;

const route = signal(location.pathname);
addEventListener('popstate', () => route.set(location.pathname));

function navigate(path: string): void {
  if (path === location.pathname) return;
  history.pushState(null, '', path);
  route.set(path);
}

function pageFor(path: string) {
  return PAGES.find((p) => p.path === path) ?? PAGES[0];
}

function KeyPrompt() {
  const [value, setValue] = useState('');
  const refused = storedKey() !== null;
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => input.current?.focus(), []);
  return (
    <section class="card key-prompt" aria-labelledby="key-title">
      <h2 id="key-title">API key</h2>
      <p>{refused ? 'The key given was refused: enter another one.' : 'This server needs an API key.'} It is kept for this tab only.</p>
      <form
        class="row"
        onSubmit={(e) => {
          e.preventDefault();
          if (!value.trim()) return;
          storeKey(value.trim());
          auth.set('unknown');
          void probeAuth();
        }}
      >
        <label for="api-key">Key</label>
        <input
          ref={input}
          id="api-key"
          data-testid="api-key"
          type="password"
          autocomplete="off"
          spellcheck={false}
          value={value}
          onInput={(e) => setValue(e.currentTarget.value)}
        />
        <button type="submit">Use this key</button>
      </form>
    </section>
  );
}

export function App() {
  const path = useSignal(route);
  const state = useSignal(auth);
  const page = pageFor(path);
  const Page = page.component;
  useEffect(() => {
    void probeAuth();
  }, []);
  useEffect(() => {
    document.title = `${page.title} · Parley playground`;
  }, [page.title]);

  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <p class="brand">
          <strong>Parley</strong> playground
        </p>
        <nav aria-label="Pages">
          <ul>
            {PAGES.map((p) => (
              <li key={p.path}>
                <a
                  href={p.path}
                  aria-current={p === page ? 'page' : undefined}
                  onClick={(e) => {
                    if (e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
                    e.preventDefault();
                    navigate(p.path);
                  }}
                >
                  {p.title}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        {storedKey() && state === 'ok' ? (
          <button
            type="button"
            class="link"
            onClick={() => {
              forgetKey();
              auth.set('unknown');
              void probeAuth();
            }}
          >
            Forget key
          </button>
        ) : null}
      </header>
      <main id="main" tabIndex={-1}>
        <h1>{page.title}</h1>
        {state === 'needed' ? <KeyPrompt /> : state === 'unknown' ? <p aria-live="polite">Connecting…</p> : <Page />}
      </main>
    </>
  );
}
