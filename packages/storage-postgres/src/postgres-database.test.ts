import { testPostgresDatabase } from '@handinger-webhooks/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { redactUrl } from './location.js';
import { toPostgres } from './placeholders.js';
import { openPostgresDatabase, type PostgresDatabase } from './postgres-database.js';

describe('placeholders', () => {
  it('numbers ? outside quotes, once per text, with a stable name', () => {
    const converted = toPostgres(`SELECT '?' AS q, "we?ird" FROM t WHERE a = ? AND b IN (?, ?)`);
    expect(converted.text).toBe(`SELECT '?' AS q, "we?ird" FROM t WHERE a = $1 AND b IN ($2, $3)`);
    expect(toPostgres(`SELECT '?' AS q, "we?ird" FROM t WHERE a = ? AND b IN (?, ?)`)).toBe(converted);
    expect(converted.name).toMatch(/^hw_[0-9a-f]{20}$/);
  });
});

describe('redactUrl', () => {
  it('never shows the password', () => {
    expect(redactUrl('postgres://app:s3cr%3At@db.example:5432/hooks?sslmode=require')).toBe('postgres://app:***@db.example:5432/hooks?sslmode=require');
    expect(redactUrl('postgresql://app@db/hooks')).toBe('postgresql://app@db/hooks');
    expect(redactUrl('postgres://app:pw@[::1')).toBe('postgres://(unparseable URL)');
  });
});

describe('the PostgreSQL driver', () => {
  let database: Awaited<ReturnType<typeof testPostgresDatabase>>;
  let db: PostgresDatabase;
  beforeEach(async () => {
    database = await testPostgresDatabase();
    db = await openPostgresDatabase(database.url);
    await db.transaction((tx) => tx.run('CREATE TABLE t (k text PRIMARY KEY, v integer NOT NULL DEFAULT 0)'));
  });
  afterEach(async () => {
    await db.close();
    await database.drop();
  });

  it('refuses to report a commit that PostgreSQL turned into a rollback', async () => {
    await expect(
      db.transaction(async (tx) => {
        await tx.run("INSERT INTO t (k) VALUES ('a')");
        await tx.run('SELECT * FROM missing').catch(() => undefined); // swallowed: the transaction is aborted regardless
      }),
    ).rejects.toThrow(/rolled back/);
    expect(await db.sql.get('SELECT k FROM t')).toBeUndefined();
  });

  it('runs a transaction again after a serialization failure', async () => {
    await db.transaction((tx) => tx.run("INSERT INTO t (k, v) VALUES ('x', 0), ('y', 0)"));
    let attempts = 0;
    let bothRead!: () => void;
    const gate = new Promise<void>((resolve) => (bothRead = resolve));
    let reads = 0;
    // Two serializable transactions that each read both rows and write one: write skew, so one must fail and be retried.
    const skewed = (row: string) =>
      db.transaction(async (tx) => {
        attempts++;
        await tx.run('SET TRANSACTION ISOLATION LEVEL SERIALIZABLE');
        await tx.get('SELECT SUM(v) AS s FROM t');
        if (++reads === 2) bothRead();
        await Promise.race([gate, new Promise((resolve) => setTimeout(resolve, 2_000))]);
        await tx.run('UPDATE t SET v = v + 1 WHERE k = ?', [row]);
      });
    await Promise.all([skewed('x'), skewed('y')]);
    expect(attempts).toBe(3);
    expect(await db.sql.all('SELECT k, v FROM t ORDER BY k')).toEqual([
      { k: 'x', v: 1 },
      { k: 'y', v: 1 },
    ]);
  });

  it('reads 64-bit integers as numbers', async () => {
    expect(await db.sql.get('SELECT CAST(? AS bigint) AS big, COUNT(*) AS n FROM t', [1_796_000_000_000])).toEqual({ big: 1_796_000_000_000, n: 0 });
  });

  it('signals another process after a commit, through LISTEN/NOTIFY', async () => {
    const other = await openPostgresDatabase(database.url);
    try {
      const heard = new Promise<void>((resolve) => other.onSignal('work', resolve));
      // Give the listener its LISTEN connection before the commit.
      await new Promise((resolve) => setTimeout(resolve, 300));
      await db.transaction(async (tx) => {
        await tx.run("INSERT INTO t (k) VALUES ('n')");
        tx.signalAfterCommit('work');
      });
      await heard;
    } finally {
      await other.close();
    }
  });

  it('fails to open with one line naming the database, never its password', async () => {
    const url = database.url.replace('postgres@', 'postgres:hunter2@').replace(/\/[^/?]+\?/, '/no_such_database?');
    const error = (await openPostgresDatabase(url).then(() => new Error('opened'), (e: unknown) => e)) as Error;
    expect(error.message).toMatch(/^cannot connect to PostgreSQL at postgres:\/\/postgres:\*\*\*@.*no_such_database.*: the database does not exist/);
    expect(error.message).not.toContain('hunter2');
    const unreachable = (await openPostgresDatabase('postgres://u:hunter2@localhost:1/db?host=/nonexistent-dir').then(() => new Error('opened'), (e: unknown) => e)) as Error;
    expect(unreachable.message).toMatch(/^cannot connect to PostgreSQL at postgres:\/\/u:\*\*\*@localhost:1\/db/);
    expect(unreachable.message).not.toContain('hunter2');
  });
});
