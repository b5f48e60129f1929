import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { durableTransaction, migrate, openDatabase, openStore, SchemaTooNewError } from './db.js';
import { MIGRATIONS, type Migration } from './migrations.js';
import { tempDataDir } from './test-support.js';

function withDir(fn: (dir: string) => void): void {
  const dir = tempDataDir();
  try {
    fn(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function versions(dir: string): number[] {
  const db = openDatabase(path.join(dir, 'parley.db'));
  try {
    return (db.prepare('SELECT version FROM schema_migrations ORDER BY version').all() as { version: number }[]).map((r) => r.version);
  } finally {
    db.close();
  }
}

describe('store database', () => {
  it('creates the data folder and database, applying every migration once', () => {
    withDir((base) => {
      const dir = path.join(base, 'nested', 'data');
      const store = openStore({ dataDir: dir });
      assert.deepEqual(store.migration, { from: 0, to: MIGRATIONS.length, applied: MIGRATIONS.map((m) => m.version) });
      assert.ok(fs.existsSync(path.join(dir, 'parley.db')));
      assert.ok(fs.statSync(path.join(dir, 'files')).isDirectory());
      store.close();
      assert.deepEqual(
        versions(dir),
        MIGRATIONS.map((m) => m.version),
      );
    });
  });

  it('re-opens an existing database without applying anything again', () => {
    withDir((dir) => {
      openStore({ dataDir: dir }).close();
      const again = openStore({ dataDir: dir });
      assert.deepEqual(again.migration, { from: MIGRATIONS.length, to: MIGRATIONS.length, applied: [] });
      again.close();
      assert.deepEqual(
        versions(dir),
        MIGRATIONS.map((m) => m.version),
      );
    });
  });

  it('sets WAL, NORMAL sync, foreign keys and a busy timeout on the connection', () => {
    withDir((dir) => {
      const store = openStore({ dataDir: dir, busyTimeoutMs: 1234 });
      try {
        assert.equal(store.db.pragma('journal_mode', { simple: true }), 'wal');
        assert.equal(store.db.pragma('synchronous', { simple: true }), 1); // NORMAL
        assert.equal(store.db.pragma('foreign_keys', { simple: true }), 1);
        assert.equal(store.db.pragma('busy_timeout', { simple: true }), 1234);
      } finally {
        store.close();
      }
    });
  });

  it('commits durable transactions with synchronous FULL and then returns to NORMAL', () => {
    withDir((dir) => {
      const store = openStore({ dataDir: dir });
      try {
        const seen = store.durable(() => store.db.pragma('synchronous', { simple: true }));
        assert.equal(seen, 2); // FULL
        assert.equal(store.db.pragma('synchronous', { simple: true }), 1);
        assert.throws(
          () =>
            store.durable(() => {
              throw new Error('boom');
            }),
          /boom/,
        );
        assert.equal(store.db.pragma('synchronous', { simple: true }), 1);
      } finally {
        store.close();
      }
    });
  });

  it('joins an enclosing transaction when a durable one is nested', () => {
    withDir((dir) => {
      const db = openDatabase(path.join(dir, 'x.db'));
      try {
        db.exec('CREATE TABLE t (v INTEGER)');
        assert.throws(() =>
          db.transaction(() => {
            durableTransaction(db, () => db.prepare('INSERT INTO t VALUES (1)').run());
            throw new Error('outer fails');
          })(),
        );
        assert.equal((db.prepare('SELECT COUNT(*) AS n FROM t').get() as { n: number }).n, 0);
      } finally {
        db.close();
      }
    });
  });

  it('applies later migrations to an older database, each once', () => {
    withDir((dir) => {
      const first: Migration[] = [{ version: 1, name: 'a', up: (db) => db.exec('CREATE TABLE a (x INTEGER)') }];
      const both: Migration[] = [...first, { version: 2, name: 'b', up: (db) => db.exec('CREATE TABLE b (x INTEGER)') }];
      const db = openDatabase(path.join(dir, 'm.db'));
      try {
        assert.deepEqual(migrate(db, first), { from: 0, to: 1, applied: [1] });
        assert.deepEqual(migrate(db, both), { from: 1, to: 2, applied: [2] });
        assert.deepEqual(migrate(db, both), { from: 2, to: 2, applied: [] });
      } finally {
        db.close();
      }
    });
  });

  it('rolls a failing migration back completely, recording nothing', () => {
    withDir((dir) => {
      const bad: Migration[] = [
        {
          version: 1,
          name: 'half',
          up: (db) => {
            db.exec('CREATE TABLE half (x INTEGER)');
            throw new Error('migration broke');
          },
        },
      ];
      const db = openDatabase(path.join(dir, 'm.db'));
      try {
        assert.throws(() => migrate(db, bad), /migration broke/);
        assert.equal(db.prepare("SELECT name FROM sqlite_master WHERE name = 'half'").get(), undefined);
        assert.equal((db.prepare('SELECT COUNT(*) AS n FROM schema_migrations').get() as { n: number }).n, 0);
      } finally {
        db.close();
      }
    });
  });

  it('refuses a database written by a newer Parley with a clear error', () => {
    withDir((dir) => {
      const newer: Migration[] = [...MIGRATIONS, { version: MIGRATIONS.length + 1, name: 'future', up: () => {} }];
      openStore({ dataDir: dir, migrations: newer }).close();
      assert.throws(
        () => openStore({ dataDir: dir }),
        (e: unknown) =>
          e instanceof SchemaTooNewError &&
          e.found === MIGRATIONS.length + 1 &&
          e.known === MIGRATIONS.length &&
          /newer Parley/.test(e.message) &&
          e.message.includes('parley.db'),
      );
    });
  });

  it('rejects a migration list with gaps', () => {
    withDir((dir) => {
      const db = openDatabase(path.join(dir, 'm.db'));
      try {
        assert.throws(() => migrate(db, [{ version: 2, name: 'x', up: () => {} }]), /out of order/);
      } finally {
        db.close();
      }
    });
  });

  it('lets two stores share one folder, as serve and the batch CLI do', () => {
    withDir((dir) => {
      const a = openStore({ dataDir: dir });
      const b = openStore({ dataDir: dir });
      try {
        const { id } = a.audio.put({ format: 'wav', data: new Uint8Array([1]), transcript: 'shared' });
        assert.equal(b.audio.get(id)?.transcript, 'shared');
        assert.deepEqual(b.migration.applied, []);
      } finally {
        a.close();
        b.close();
      }
    });
  });

  it('can be closed twice', () => {
    withDir((dir) => {
      const store = openStore({ dataDir: dir });
      store.close();
      store.close();
      assert.equal(store.isOpen, false);
    });
  });
});
