import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { EVENT_STORE_MIGRATIONS, EventLog, Leases, processOwnerId } from '@handinger-webhooks/event-store';
import { openSqliteDatabase } from '@handinger-webhooks/storage-sqlite';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI_PATH, createTempDir, runCli, waitFor } from '@handinger-webhooks/testing';

/**
 * Expected failures are one line on stderr, no stack trace, and name what
 * is wrong; a rebuild killed mid-way does not block the next one.
 */

const dirs: ReturnType<typeof createTempDir>[] = [];
afterEach(() => dirs.splice(0).forEach((d) => d.remove()));
const tempDir = () => {
  const dir = createTempDir();
  dirs.push(dir);
  return dir;
};

/** stderr is exactly one `handinger-webhooks: …` line matching `message`. */
function expectOneLine(stderr: string, message: string | RegExp): void {
  const lines = stderr.trimEnd().split('\n');
  expect(lines, stderr).toHaveLength(1);
  expect(lines[0]).toMatch(typeof message === 'string' ? new RegExp(`^handinger-webhooks: ${message.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`) : message);
}

const REBUILD_LEASE = 'read-models:rebuild';

describe('CLI errors', () => {
  it('a file that is not a database: one line naming the path, for every command, and the file is left alone', async () => {
    const dir = tempDir();
    const path = dir.file('notes.txt');
    writeFileSync(path, 'these are my notes, not a database\n'.repeat(100), { mode: 0o644 });
    for (const args of [['keys', 'list'], ['keys', 'create', '--service', '--name', 'x'], ['rebuild-projections'], ['rebuild-projections', '--verify'], ['serve', '--port', '0'], ['deliver']]) {
      const result = await runCli([...args, '--db', path]);
      expect(result.status, args.join(' ')).toBe(1);
      expectOneLine(result.stderr, `${path} is not a SQLite database (or it is damaged)`);
    }
    expect(statSync(path).mode & 0o777).toBe(0o644);
  });

  it('a directory given as the database: one line', async () => {
    const dir = tempDir();
    mkdirSync(dir.file('a-folder'));
    const result = await runCli(['keys', 'list', '--db', dir.file('a-folder')]);
    expect(result.status).toBe(1);
    expectOneLine(result.stderr, `${dir.file('a-folder')} is a directory, not a database file`);
  });

  it('a rebuild running in another process: one line naming it', async () => {
    const dir = tempDir();
    const db = dir.file('busy.db');
    expect((await runCli(['keys', 'list', '--db', db])).status).toBe(0);
    const file = openSqliteDatabase(db);
    try {
      // This test process holds the rebuild lease: a live holder.
      expect(await file.transaction((tx) => new Leases().tryAcquire(tx, REBUILD_LEASE, processOwnerId(), 60_000))).toBe(true);
      for (const args of [['rebuild-projections'], ['rebuild-projections', '--verify']]) {
        const result = await runCli([...args, '--db', db]);
        expect(result.status).toBe(1);
        expectOneLine(result.stderr, new RegExp(`^handinger-webhooks: another rebuild of the read models is running on this database \\(process ${process.pid} on .+\\); try again once it has finished$`));
      }
    } finally {
      await file.close();
    }
  });

  it('a rebuild killed mid-way (SIGKILL) does not block the next one', async () => {
    const dir = tempDir();
    const db = dir.file('big.db');
    // A log long enough that a rebuild runs for a while: 150,000 workers.
    const file = openSqliteDatabase(db);
    await file.migrate('event-store', EVENT_STORE_MIGRATIONS);
    const log = new EventLog(file);
    await file.transaction(async (tx) => {
      for (let i = 0; i < 150_000; i++) {
        const workerId = `t_org_big_w_${String(i).padStart(26, '0')}`;
        await log.append(tx, `worker-${workerId}`, [{ type: 'WorkerCreated', data: { workerId, organizationId: 'org_big', userId: 'u', title: `w${i}`, instructions: '', summary: '', visibility: 'public', createdAt: '2026-01-01T00:00:00.000Z' } }], 0, { versionIsKnown: true });
      }
    });
    await file.close();
    expect((await runCli(['keys', 'list', '--db', db])).status).toBe(0); // sets the database up (read models, key)

    const rebuild = spawn(process.execPath, [CLI_PATH, 'rebuild-projections', '--db', db], { stdio: 'ignore' });
    const exited = once(rebuild, 'exit');
    const reader = new Database(db, { readonly: true });
    try {
      const lease = reader.prepare('SELECT owner FROM leases WHERE name = ?');
      await waitFor(() => lease.get(REBUILD_LEASE), { intervalMs: 5, message: 'the rebuild took its lease' });
      rebuild.kill('SIGKILL');
      const [, signal] = await exited;
      expect(signal).toBe('SIGKILL');
      expect(lease.get(REBUILD_LEASE), 'killed while holding its lease').toBeDefined();
    } finally {
      reader.close();
    }

    const verify = await runCli(['rebuild-projections', '--verify', '--db', db]);
    expect(verify.stderr).not.toContain('another rebuild');
    expect(verify.status).toBe(0);
    expect(verify.stdout).toMatch(/^verified: the read models match the \d+ events of the log/);
    const again = await runCli(['rebuild-projections', '--db', db]);
    expect(again.status).toBe(0);
  });
});
