import { copyFileSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { createTempDir, waitFor } from '@handinger-webhooks/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BACKSTOP_CHECKPOINT_PAGES, INLINE_CHECKPOINT_PAGES } from './background-checkpoints.js';
import { openSqliteDatabase, type SqliteDatabase } from './sqlite-database.js';

let dir: ReturnType<typeof createTempDir>;
let db: SqliteDatabase | undefined;
beforeEach(() => {
  dir = createTempDir();
});
afterEach(async () => {
  await db?.close();
  db = undefined;
  dir.remove();
});

/** Real write transactions through group commit, one row each. */
async function insertRows(database: SqliteDatabase, from: number, count: number): Promise<void> {
  for (let i = from; i < from + count; i++) await database.transaction((tx) => tx.run('INSERT INTO t (k, v) VALUES (?, ?)', [i, 'x'.repeat(200)]));
}

/** Rows in the database file alone, WAL left behind: what checkpoints have copied into it. */
function rowsInDatabaseFile(path: string): number {
  const copy = dir.file('copy.db');
  copyFileSync(path, copy);
  const reader = new Database(copy, { readonly: true });
  try {
    return (reader.prepare('SELECT COUNT(*) AS n FROM t').get() as { n: number }).n;
  } catch {
    return 0; // not even the table has been copied yet
  } finally {
    reader.close();
  }
}

const walPages = (path: string): number => statSync(`${path}-wal`).size / 4_120; // a 4 KiB page + its 24-byte frame header

describe('WAL checkpoints on a thread of their own', () => {
  it("copy commits into the database file while the writer stays under its backstop, and stop with the database", async () => {
    const path = dir.file('bg.db');
    db = openSqliteDatabase(path, { backgroundCheckpoints: true });
    expect(db.checkpointer).not.toBeNull();
    expect(db.writer.pragma('wal_autocheckpoint', { simple: true })).toBe(BACKSTOP_CHECKPOINT_PAGES);
    await db.transaction((tx) => tx.run('CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT NOT NULL)'));
    await insertRows(db, 0, 300);
    expect(walPages(path)).toBeLessThan(BACKSTOP_CHECKPOINT_PAGES); // the writer has not checkpointed itself

    await waitFor(() => rowsInDatabaseFile(path) === 300, { message: 'the checkpointer thread never copied the commits into the database file' });

    await db.close();
    db = undefined;
    const reopened = openSqliteDatabase(path);
    expect((await reopened.sql.get<{ n: number }>('SELECT COUNT(*) AS n FROM t'))!.n).toBe(300);
    await reopened.close();
  });

  it('keep the WAL from growing past the backstop under steady writes (the writer rewinds it)', async () => {
    const path = dir.file('steady.db');
    db = openSqliteDatabase(path, { backgroundCheckpoints: true });
    await db.transaction((tx) => tx.run('CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT NOT NULL)'));
    let largest = 0;
    // ≈ 3 frames per commit: 12,000 commits write ≈ 9 backstops' worth of frames.
    for (let from = 0; from < 12_000; from += 1_000) {
      await insertRows(db, from, 1_000);
      largest = Math.max(largest, walPages(path));
    }
    expect(largest).toBeLessThan(BACKSTOP_CHECKPOINT_PAGES * 2);
    expect((await db.sql.get<{ n: number }>('SELECT COUNT(*) AS n FROM t'))!.n).toBe(12_000);
  });

  it('leave the checkpoints to the writer again when the thread ends', async () => {
    db = openSqliteDatabase(dir.file('crash.db'), { backgroundCheckpoints: true });
    await db.checkpointer!.crashForTest();
    expect(db.writer.pragma('wal_autocheckpoint', { simple: true })).toBe(INLINE_CHECKPOINT_PAGES);
  });

  it('are off unless asked for (CLI commands and tests open without a thread)', () => {
    db = openSqliteDatabase(dir.file('plain.db'));
    expect(db.checkpointer).toBeNull();
    expect(db.writer.pragma('wal_autocheckpoint', { simple: true })).toBe(INLINE_CHECKPOINT_PAGES);
  });
});
