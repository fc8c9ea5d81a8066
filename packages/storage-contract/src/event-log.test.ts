import { ConcurrencyError, EVENT_STORE_MIGRATIONS, LOG_START, type RecordedEvent } from '@handinger-webhooks/event-store';
import { TEST_BACKENDS } from '@handinger-webhooks/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStorageUnderTest, type StorageUnderTest } from './storage-under-test.js';

const event = (n: number, type = 'Counted') => ({ type, data: { n } });

describe.each(TEST_BACKENDS)('the event log on %s', (backend) => {
  let s: StorageUnderTest;
  beforeEach(async () => {
    s = await openStorageUnderTest(backend, { project: false });
  });
  afterEach(() => s.close());

  const append = (streamId: string, events: { type: string; data: unknown; metadata?: Record<string, unknown> }[], expected: number | 'any', options?: { versionIsKnown?: boolean }) =>
    s.db.transaction((tx) => s.log.append(tx, streamId, events, expected, options));

  it('appends with stream and global positions and reads a stream back in order', async () => {
    const first = await append('a', [event(1), event(2)], 0);
    await append('b', [event(3)], 0);
    const third = await append('a', [{ ...event(4), metadata: { actor: 'key_1' } }], first.nextExpectedVersion);

    expect(first.nextExpectedVersion).toBe(2);
    expect(third.events[0]).toMatchObject({ streamPosition: 3, metadata: { actor: 'key_1' } });
    const stream = await s.log.stream('a');
    expect(stream.map((e) => [e.streamPosition, e.data])).toEqual([
      [1, { n: 1 }],
      [2, { n: 2 }],
      [3, { n: 4 }],
    ]);
    const positions = stream.map((e) => e.globalPosition);
    expect([...positions].sort((x, y) => x - y)).toEqual(positions);
    expect(stream[0]!.recordedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(await s.log.streamVersion(s.db.sql, 'a')).toBe(3);
    expect(await s.log.streamVersion(s.db.sql, 'missing')).toBe(0);
    expect(await s.log.headPosition()).toBe(third.events[0]!.globalPosition);
    expect(await s.log.count()).toBe(4);
  });

  it('keeps data exactly as given (key order, unicode, nesting)', async () => {
    const data = { z: 1, a: { 'é✓': [1, null, 'x'] }, m: '"quoted"' };
    await append('exact', [{ type: 'Exact', data }], 0);
    const [read] = await s.log.stream('exact');
    expect(JSON.stringify(read!.data)).toBe(JSON.stringify(data));
  });

  it('refuses an append at a stale version with a typed error, and writes nothing', async () => {
    await append('a', [event(1)], 0);
    const error = await append('a', [event(2)], 0).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConcurrencyError);
    expect(error).toMatchObject({ streamId: 'a', expectedVersion: 0, actualVersion: 1 });
    await expect(append('a', [event(2)], 5)).rejects.toBeInstanceOf(ConcurrencyError);
    expect(await s.log.count()).toBe(1);
  });

  it('trusts a known version without reading it, and still catches a writer that appended meanwhile, leaving the transaction usable', async () => {
    await append('a', [event(1)], 0);
    expect((await append('a', [event(2)], 1, { versionIsKnown: true })).events[0]).toMatchObject({ streamPosition: 2 });
    const outcome = await s.db.transaction(async (tx) => {
      const conflict = await s.log.append(tx, 'a', [event(3)], 1, { versionIsKnown: true }).catch((e: unknown) => e);
      // The conflict did not abort the transaction (PostgreSQL would otherwise refuse every later statement).
      await s.log.append(tx, 'other', [event(9)], 0);
      return conflict;
    });
    expect(outcome).toBeInstanceOf(ConcurrencyError);
    expect(outcome).toMatchObject({ expectedVersion: 1, actualVersion: 2 });
    expect((await s.log.stream('a')).map((e) => e.data)).toEqual([{ n: 1 }, { n: 2 }]);
    expect(await s.log.stream('other')).toHaveLength(1);
  });

  it('appends at any version when asked to', async () => {
    await append('a', [event(1)], 0);
    expect((await append('a', [event(2)], 'any')).nextExpectedVersion).toBe(2);
  });

  it('lets exactly one of two processes that read the same version append', async () => {
    const other = await s.openAnother();
    const seenByUs = await s.log.streamVersion(s.db.sql, 's');
    const seenByThem = await other.log.streamVersion(other.db.sql, 's');
    await append('s', [event(1)], seenByUs);
    await expect(other.db.transaction((tx) => other.log.append(tx, 's', [event(2)], seenByThem))).rejects.toBeInstanceOf(ConcurrencyError);
  });

  it('lets exactly one of eight concurrent writers append to one stream', async () => {
    const writers = await Promise.all(Array.from({ length: 8 }, () => s.openAnother()));
    const outcomes = await Promise.all(
      writers.map((w) =>
        w.db
          .transaction((tx) => w.log.append(tx, 'race', [{ type: 'Won', data: {} }], 0, { versionIsKnown: true }))
          .then(() => 'won')
          .catch((e: unknown) => (e instanceof ConcurrencyError ? 'conflict' : String(e))),
      ),
    );
    expect(outcomes.sort()).toEqual(['conflict', 'conflict', 'conflict', 'conflict', 'conflict', 'conflict', 'conflict', 'won']);
    expect(await s.log.stream('race')).toHaveLength(1);
  });

  it('rolls back every append of a failed transaction', async () => {
    await expect(
      s.db.transaction(async (tx) => {
        await s.log.append(tx, 'a', [event(1)], 0);
        await s.log.append(tx, 'b', [event(2)], 0);
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect(await s.log.count()).toBe(0);
  });

  it('reads events by position, one or many', async () => {
    const appended = (await append('p', [event(1), event(2), event(3)], 0)).events;
    const [one] = await s.log.eventsAt(s.db.sql, [appended[1]!.globalPosition]);
    expect(one!.data).toEqual({ n: 2 });
    const many = await s.log.eventsAt(s.db.sql, [appended[2]!.globalPosition, appended[0]!.globalPosition, 999_999]);
    expect(many.map((e) => e.data).sort((a, b) => (a as { n: number }).n - (b as { n: number }).n)).toEqual([{ n: 1 }, { n: 3 }]);
    expect(await s.log.eventsAt(s.db.sql, [])).toEqual([]);
  });

  it('lets a follower read the log in pages from a cursor, leaving out types in the database', async () => {
    for (let i = 0; i < 25; i++) await append(`s${i % 3}`, [{ type: i % 5 === 0 ? 'Kept' : 'Noise', data: { n: i } }], 'any');
    const seen: RecordedEvent[] = [];
    let cursor = LOG_START;
    for (;;) {
      const page = await s.log.readAfter(cursor, 10);
      seen.push(...page.events);
      cursor = page.cursor;
      if (page.caughtUp) break;
    }
    expect(seen.map((e) => (e.data as { n: number }).n)).toEqual(Array.from({ length: 25 }, (_, i) => i));
    const kept = await s.log.readAfter(LOG_START, 10, { exceptTypes: ['Noise'] });
    expect(kept.events.map((e) => (e.data as { n: number }).n)).toEqual([0, 5, 10, 15, 20]);
    expect(kept.caughtUp).toBe(true);
    // The cursor stays at the last event returned: the excluded ones after it are only skipped again.
    const rest = await s.log.readAfter(kept.cursor, 10, { exceptTypes: ['Noise'] });
    expect(rest.events).toEqual([]);
    expect(rest.cursor).toBe(kept.cursor);
    expect((await s.log.readAfter(kept.cursor, 10)).events.map((e) => (e.data as { n: number }).n)).toEqual([21, 22, 23, 24]);
  });

  it('refuses to edit or delete the log, whatever code runs against it', async () => {
    await append('a', [event(1)], 0);
    await expect(s.db.transaction((tx) => tx.run("UPDATE events SET type = 'Forged'"))).rejects.toThrow(/append-only/);
    await expect(s.db.transaction((tx) => tx.run('DELETE FROM events'))).rejects.toThrow(/append-only/);
    expect((await s.log.stream('a'))[0]!.type).toBe('Counted');
  });

  it('migrates idempotently, and from several processes at once', async () => {
    const others = await Promise.all([s.openAnother(), s.openAnother(), s.openAnother()]);
    await Promise.all(others.map(({ db }) => db.migrate('event-store', EVENT_STORE_MIGRATIONS)));
    expect(await s.log.count()).toBe(0);
  });

  it('imports events with their positions, and appends continue above them', async () => {
    const imported: RecordedEvent[] = [
      { type: 'A', data: { n: 1 }, metadata: {}, streamId: 'x', streamPosition: 1, globalPosition: 5, recordedAt: '2026-01-01T00:00:00.000Z' },
      { type: 'B', data: { n: 2 }, metadata: { actor: 'k' }, streamId: 'y', streamPosition: 1, globalPosition: 9, recordedAt: '2026-01-01T00:00:01.000Z' },
    ];
    await s.db.transaction(async (tx) => {
      await s.log.insertImported(tx, imported);
      await s.log.afterImport(tx);
    });
    expect(await s.log.readByPosition(s.db.sql, 0, 10)).toEqual(imported);
    const next = await append('z', [event(3)], 0);
    expect(next.events[0]!.globalPosition).toBeGreaterThan(9);
  });
});
