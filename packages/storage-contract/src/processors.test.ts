import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { Checkpoints, LOG_START, Leases, StoreMeta, isOwnerGone, processOwnerId } from '@handinger-webhooks/event-store';
import { TEST_BACKENDS } from '@handinger-webhooks/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStorageUnderTest, type StorageUnderTest } from './storage-under-test.js';

/** An owner id of this machine and pid namespace for `pid` (as that process would have minted it). */
const ownerWithPid = (pid: number) => processOwnerId().split('|').map((part, i) => (i === 2 ? String(pid) : part)).join('|');

describe.each(TEST_BACKENDS)('checkpoints, leases and store facts on %s', (backend) => {
  let s: StorageUnderTest;
  beforeEach(async () => {
    s = await openStorageUnderTest(backend, { project: false });
  });
  afterEach(() => s.close());
  const tx = <T>(work: Parameters<typeof s.db.transaction<T>>[0]) => s.db.transaction(work);

  it('a checkpoint starts at the beginning, keeps the last cursor, and moves by compare-and-set', async () => {
    const checkpoints = new Checkpoints();
    expect(await checkpoints.get(s.db.sql, 'follower')).toBe(LOG_START);
    expect(await tx((t) => checkpoints.compareAndSet(t, 'follower', LOG_START, '5'))).toBe(true);
    expect(await tx((t) => checkpoints.compareAndSet(t, 'follower', LOG_START, '6'))).toBe(false);
    expect(await tx((t) => checkpoints.compareAndSet(t, 'follower', '5', '9'))).toBe(true);
    await tx((t) => checkpoints.set(t, 'other', '3'));
    expect(await checkpoints.get(s.db.sql, 'follower')).toBe('9');
    expect(await checkpoints.get(s.db.sql, 'other')).toBe('3');
  });

  it('a lease is held by one owner until it lapses, and its owner extends it', async () => {
    const leases = new Leases();
    const now = 1_000_000;
    expect(await tx((t) => leases.tryAcquire(t, 'job', 'a', 100, now))).toBe(true);
    expect(await tx((t) => leases.tryAcquire(t, 'job', 'b', 100, now + 50))).toBe(false);
    expect(await tx((t) => leases.tryAcquire(t, 'job', 'a', 100, now + 50))).toBe(true); // extended to now + 150
    expect(await tx((t) => leases.tryAcquire(t, 'job', 'b', 100, now + 120))).toBe(false);
    expect(await tx((t) => leases.tryAcquire(t, 'job', 'b', 100, now + 150))).toBe(true);
    expect(await leases.holder(s.db.sql, 'job')).toEqual({ owner: 'b', expiresAt: now + 250 });
    await tx((t) => leases.release(t, 'job', 'a')); // not a's any more: nothing happens
    expect((await leases.holder(s.db.sql, 'job'))?.owner).toBe('b');
    await tx((t) => leases.release(t, 'job', 'b'));
    expect(await leases.holder(s.db.sql, 'job')).toBeUndefined();
  });

  it("a lease uses the database's clock unless told the time", async () => {
    const leases = new Leases();
    expect(await tx((t) => leases.tryAcquire(t, 'clock', 'a', 60_000))).toBe(true);
    const { expiresAt } = (await leases.holder(s.db.sql, 'clock'))!;
    expect(Math.abs(expiresAt - (Date.now() + 60_000))).toBeLessThan(5_000);
    expect(await leases.lapsed(s.db.sql, 'clo')).toEqual([]);
    expect(await leases.lapsed(s.db.sql, 'clo', Date.now() + 120_000)).toEqual(['clock']);
  });

  it('a lease whose holder died on this machine is taken over at once', async () => {
    const leases = new Leases();
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    expect(isOwnerGone(ownerWithPid(dead))).toBe(true);
    expect(await tx((t) => leases.tryAcquire(t, 'job', ownerWithPid(dead), 600_000))).toBe(true);
    const me = processOwnerId();
    expect(await tx((t) => leases.tryAcquire(t, 'job', me, 1_000))).toBe(true);
    expect((await leases.holder(s.db.sql, 'job'))?.owner).toBe(me);
  });

  it('a lease stays with a holder that is alive, or elsewhere, until it lapses', async () => {
    const leases = new Leases();
    const alive = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    try {
      expect(await tx((t) => leases.tryAcquire(t, 'alive', ownerWithPid(alive.pid!), 600_000))).toBe(true);
      expect(await tx((t) => leases.tryAcquire(t, 'alive', processOwnerId(), 1_000))).toBe(false);
      const elsewhere = ['another-host', 'pid:[1]', '12345', 'x'].join('|');
      expect(isOwnerGone(elsewhere)).toBe(false);
      expect(await tx((t) => leases.tryAcquire(t, 'remote', elsewhere, 10_000, 5_000))).toBe(true);
      expect(await tx((t) => leases.tryAcquire(t, 'remote', processOwnerId(), 10_000, 5_000))).toBe(false);
      expect(await tx((t) => leases.tryAcquire(t, 'remote', processOwnerId(), 10_000, 15_000))).toBe(true);
    } finally {
      alive.kill('SIGKILL');
      await once(alive, 'exit');
    }
  });

  it('a store fact is set once', async () => {
    const meta = new StoreMeta();
    expect(await meta.get(s.db.sql, 'k')).toBeUndefined();
    expect(await tx((t) => meta.setIfAbsent(t, 'k', 'v1'))).toBe(true);
    expect(await tx((t) => meta.setIfAbsent(t, 'k', 'v2'))).toBe(false);
    expect(await meta.get(s.db.sql, 'k')).toBe('v1');
  });
});
