import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTempDir } from '@handinger-webhooks/testing';
import { Checkpoints, Leases } from './checkpoints.js';
import { openDatabase, type SqliteDatabase } from './database.js';
import { isOwnerGone, processOwnerId } from './lease-owner.js';
import { migrateEventStore } from './migrate.js';

let dir: ReturnType<typeof createTempDir>;
let db: SqliteDatabase;

beforeEach(async () => {
  dir = createTempDir();
  db = openDatabase(dir.file('events.db'));
  await migrateEventStore(db);
});
afterEach(() => {
  db.close();
  dir.remove();
});

describe('Checkpoints', () => {
  it('start at 0 and keep the last position set', () => {
    const checkpoints = new Checkpoints(db);
    expect(checkpoints.get('s')).toBe(0);
    checkpoints.set('s', 42);
    checkpoints.set('s', 43);
    expect(new Checkpoints(db).get('s')).toBe(43);
  });
});

describe('Leases', () => {
  const t = 1_000_000;

  it('go to one owner at a time until they lapse or are released', () => {
    const leases = new Leases(db);
    expect(leases.tryAcquire('job:1', 'a', 1_000, t)).toBe(true);
    expect(leases.tryAcquire('job:1', 'b', 1_000, t + 500)).toBe(false);
    expect(leases.tryAcquire('job:1', 'b', 1_000, t + 1_000)).toBe(true); // lapsed
    leases.release('job:1', 'a'); // not a's any more: nothing happens
    expect(leases.tryAcquire('job:1', 'a', 1_000, t + 1_100)).toBe(false);
    leases.release('job:1', 'b');
    expect(leases.tryAcquire('job:1', 'a', 1_000, t + 1_100)).toBe(true);
  });

  it('are extended when their owner takes them again', () => {
    const leases = new Leases(db);
    expect(leases.tryAcquire('job:1', 'a', 1_000, t)).toBe(true);
    expect(leases.tryAcquire('job:1', 'a', 1_000, t + 900)).toBe(true);
    expect(leases.tryAcquire('job:1', 'b', 1_000, t + 1_500)).toBe(false); // a holds it until t + 1,900
  });

  it('tell when another owner’s lease under a prefix lapses, and purge the long-lapsed ones', () => {
    const leases = new Leases(db);
    leases.tryAcquire('job:1', 'other', 5_000, t);
    leases.tryAcquire('job:2', 'other', 3_000, t);
    leases.tryAcquire('job:3', 'me', 1_000, t);
    leases.tryAcquire('jobs', 'other', 1_000, t); // not under "job:"
    leases.tryAcquire('job:old', 'dead', 1, t - 120_000);
    expect(leases.nextExpiry('job:', 'me', t)).toBe(t + 3_000);
    expect(leases.nextExpiry('nothing:', 'me', t)).toBeNull();
    expect(leases.purgeLapsed('job:', t - 60_000)).toBe(1);
    const names = (db.prepare('SELECT name FROM leases ORDER BY name').all() as { name: string }[]).map((r) => r.name);
    expect(names).toEqual(['job:1', 'job:2', 'job:3', 'jobs']);
  });
});

describe('Leases whose holder died', () => {
  /** An owner id of this machine and pid namespace for `pid` (as that process would have minted it). */
  const ownerWithPid = (pid: number) => processOwnerId().split('|').map((part, i) => (i === 2 ? String(pid) : part)).join('|');

  it('are taken over at once when the holding process is gone, not at expiry', () => {
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    expect(isOwnerGone(ownerWithPid(dead))).toBe(true);
    const leases = new Leases(db);
    const now = Date.now();
    expect(leases.tryAcquire('job', ownerWithPid(dead), 120_000, now)).toBe(true);
    const me = processOwnerId();
    expect(leases.tryAcquire('job', me, 1_000, now + 1)).toBe(true);
    expect(leases.holder('job')).toEqual({ owner: me, expiresAt: now + 1 + 1_000 });
  });

  it('stay with a holder that is alive, or on another machine, until they lapse', async () => {
    const alive = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    try {
      const leases = new Leases(db);
      const now = Date.now();
      expect(leases.tryAcquire('alive', ownerWithPid(alive.pid!), 10_000, now)).toBe(true);
      expect(leases.tryAcquire('alive', processOwnerId(), 10_000, now)).toBe(false);
      const elsewhere = ['another-host', 'pid:[1]', '12345', 'x'].join('|');
      expect(isOwnerGone(elsewhere)).toBe(false);
      expect(leases.tryAcquire('remote', elsewhere, 10_000, now)).toBe(true);
      expect(leases.tryAcquire('remote', processOwnerId(), 10_000, now)).toBe(false);
      expect(leases.tryAcquire('remote', processOwnerId(), 10_000, now + 10_000)).toBe(true);
      expect(isOwnerGone('an-opaque-owner')).toBe(false);
    } finally {
      alive.kill('SIGKILL');
      await once(alive, 'exit');
    }
  });
});
