/**
 * The one API client of the page: the official `openai` SDK pointed at this origin. The page uses
 * nothing but the public API, so everything it does works for any browser client too.
 */
import OpenAI from 'openai';
import { signal } from '../ui/store.js';

const KEY_STORAGE = 'parley.apiKey';
/** Sent when the server needs no key: the SDK insists on one, the server ignores it. */
const NO_KEY = 'sk-no-key-needed';

/** `unknown` until the first call, `needed` after a 401 (the page then asks for a key). */
export const auth = signal<'unknown' | 'needed' | 'ok'>('unknown');

/** The key for this tab only (sessionStorage: gone when the tab closes, never sent elsewhere). */
export function storedKey(): string | null {
  try {
    return sessionStorage.getItem(KEY_STORAGE);
  } catch {
    return null;
  }
}

export function storeKey(key: string): void {
  sessionStorage.setItem(KEY_STORAGE, key);
  cached = undefined;
}

export function forgetKey(): void {
  sessionStorage.removeItem(KEY_STORAGE);
  cached = undefined;
}

let cached: OpenAI | undefined;

/** The SDK client with the current key. */
export function api(): OpenAI {
  cached ??= new OpenAI({
    baseURL: `${location.origin}/v1`,
    apiKey: storedKey() ?? NO_KEY,
    dangerouslyAllowBrowser: true,
    // The page shows errors as they are; it does not retry behind the user's back.
    maxRetries: 0,
    timeout: 10 * 60_000,
  });
  return cached;
}

/** A readable one-line message for anything a call threw; a 401 also turns on the key prompt. */
export function errorMessage(error: unknown): string {
  if (error instanceof OpenAI.AuthenticationError) {
    auth.set('needed');
    return storedKey() ? 'That API key was refused. Enter another one.' : 'This server needs an API key.';
  }
  if (error instanceof OpenAI.APIError) {
    const body = error.error as { message?: string } | undefined;
    return body?.message ?? error.message;
  }
  if (error instanceof DOMException && error.name === 'AbortError') return 'Stopped.';
  return error instanceof Error ? error.message : String(error);
}

/** Checks whether the server wants a key (and whether the stored one works). */
export async function probeAuth(): Promise<void> {
  try {
    await api().models.list();
    auth.set('ok');
  } catch (error) {
    if (error instanceof OpenAI.AuthenticationError) auth.set('needed');
    else auth.set('ok'); // another failure is shown by the page that meets it
  }
}

/** Saves a blob as a file through the browser's download. */
export function download(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
