import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openStore, type Store, type StoreOptions } from './db.js';

/** A fresh temporary data folder; remove it with `fs.rmSync(dir, { recursive: true, force: true })`. */
export function tempDataDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'parley-store-'));
}

/** A clock tests can move: `clock.now()` in ms, `clock.advance(sec)`. */
export interface TestClock {
  /** Current time, ms since the epoch. */
  now(): number;
  /** Moves time forward by `sec` seconds. */
  advance(sec: number): void;
}

/** A clock starting at `startMs` (default 2025-01-01T00:00:00Z). */
export function testClock(startMs = Date.UTC(2025, 0, 1)): TestClock {
  let t = startMs;
  return {
    now: () => t,
    advance: (sec) => {
      t += sec * 1000;
    },
  };
}

/** Opens a store in a new temp folder; `cleanup()` closes it and removes the folder. */
export function openTempStore(options: Partial<StoreOptions> = {}): { store: Store; dir: string; cleanup(): void } {
  const dir = options.dataDir ?? tempDataDir();
  const store = openStore({ ...options, dataDir: dir });
  return {
    store,
    dir,
    cleanup() {
      store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
