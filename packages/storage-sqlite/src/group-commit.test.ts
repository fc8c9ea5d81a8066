import { COMMIT_SIGNAL, type TxSql } from '@handinger-webhooks/event-store';
import { createTempDir } from '@handinger-webhooks/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteDatabase, type SqliteDatabase } from './sqlite-database.js';

let dir: ReturnType<typeof createTempDir>;
let db: SqliteDatabase;
beforeEach(async () => {
  dir = createTempDir();
  db = openSqliteDatabase(dir.file('gc.db'));
  await db.transaction((tx) => tx.run('CREATE TABLE t (k TEXT PRIMARY KEY)'));
});
afterEach(async () => {
  await db.close();
  dir.remove();
});

const count = async () => (await db.sql.get<{ n: number }>('SELECT COUNT(*) AS n FROM t'))!.n;

describe('group commit on SQLite', () => {
  it('shares one transaction among the writes of one turn, and a failing one rolls back alone', async () => {
    let commits = 0;
    db.onSignal(COMMIT_SIGNAL, () => commits++);
    const results = await Promise.allSettled([
      db.transaction((tx) => tx.run("INSERT INTO t VALUES ('a')")),
      db.transaction(async (tx) => {
        await tx.run("INSERT INTO t VALUES ('b')");
        throw new Error('refused');
      }),
      db.transaction((tx) => tx.run("INSERT INTO t VALUES ('a')")), // a unique violation: its own failure only
      db.transaction((tx) => tx.run("INSERT INTO t VALUES ('c')")),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled']);
    expect((await db.sql.all<{ k: string }>('SELECT k FROM t ORDER BY k')).map((r) => r.k)).toEqual(['a', 'c']);
    expect(commits).toBe(1);
  });

  it('runs a batch without savepoints, and again, each work isolated, only when one fails after writing', async () => {
    const runs = { a: 0, b: 0, c: 0 };
    const batch = (failing: (tx: TxSql) => Promise<unknown>) =>
      Promise.allSettled([
        db.transaction((tx) => (runs.a++, tx.run(`INSERT INTO t VALUES ('a${runs.a}')`))),
        db.transaction((tx) => (runs.b++, failing(tx))),
        db.transaction((tx) => (runs.c++, tx.run(`INSERT INTO t VALUES ('c${runs.c}')`))),
      ]);
    // Fails having read only: answered with its error, nobody runs twice.
    let results = await batch(async (tx) => {
      await tx.get('SELECT COUNT(*) AS n FROM t');
      throw new Error('refused before writing');
    });
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(runs).toEqual({ a: 1, b: 1, c: 1 });
    // An insert that inserted nothing (a lost race: ON CONFLICT DO NOTHING) wrote nothing either.
    results = await batch(async (tx) => {
      expect(await tx.insert("INSERT INTO t VALUES ('a1') ON CONFLICT DO NOTHING")).toBeNull();
      throw new Error('lost a race');
    });
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(runs).toEqual({ a: 2, b: 2, c: 2 });
    // Fails after writing: the shared run stops there and is rolled back; the batch runs again, isolated, and only that run commits.
    results = await batch(async (tx) => {
      await tx.run("INSERT INTO t VALUES ('b')");
      throw new Error('refused after writing');
    });
    expect(results.map((r) => (r.status === 'rejected' ? String(r.reason) : r.status))).toEqual(['fulfilled', 'Error: refused after writing', 'fulfilled']);
    expect(runs).toEqual({ a: 4, b: 4, c: 3 });
    expect((await db.sql.all<{ k: string }>('SELECT k FROM t ORDER BY k')).map((r) => r.k)).toEqual(['a1', 'a2', 'a4', 'c1', 'c2', 'c3']);
  });

  it('answers only after the commit: another connection sees the write when the promise resolves', async () => {
    const other = openSqliteDatabase(dir.file('gc.db'));
    try {
      let seenBeforeResolve: number | undefined;
      const write = db.transaction(async (tx) => {
        await tx.run("INSERT INTO t VALUES ('x')");
        seenBeforeResolve = (await other.sql.get<{ n: number }>('SELECT COUNT(*) AS n FROM t'))!.n;
      });
      await write;
      expect(seenBeforeResolve).toBe(0); // inside the transaction: not yet visible
      expect((await other.sql.get<{ n: number }>('SELECT COUNT(*) AS n FROM t'))!.n).toBe(1);
    } finally {
      await other.close();
    }
  });

  it('raises signals after the commit, and none for a rolled-back write', async () => {
    const heard: number[] = [];
    db.onSignal('work', () => void count().then((n) => heard.push(n)));
    await db.transaction(async (tx) => {
      await tx.run("INSERT INTO t VALUES ('s')");
      tx.signalAfterCommit('work');
    });
    await expect(
      db.transaction(async (tx) => {
        tx.signalAfterCommit('work');
        throw new Error('no');
      }),
    ).rejects.toThrow('no');
    await new Promise((resolve) => setImmediate(resolve));
    expect(heard).toEqual([1]);
  });

  it('keeps serving writes after a batch failed as a whole', async () => {
    await expect(db.transaction((tx) => tx.run('INSERT INTO missing VALUES (1)'))).rejects.toThrow(/no such table/);
    await db.transaction((tx) => tx.run("INSERT INTO t VALUES ('after')"));
    expect(await count()).toBe(1);
  });
});
