import { LOG_START, type RecordedEvent } from '@handinger-webhooks/event-store';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStorageUnderTest, type StorageUnderTest } from './storage-under-test.js';

/**
 * SPEC §11: "readers that follow the log never skip an event that commits
 * after one with a higher position". Only PostgreSQL can commit out of
 * position order (SQLite's writer is exclusive: positions are assigned and
 * committed in one order), so this scenario exists there alone.
 */
describe('a log follower on postgres', () => {
  let s: StorageUnderTest;
  beforeEach(async () => {
    s = await openStorageUnderTest('postgres', { project: false });
  });
  afterEach(() => s.close());

  it('sees an event whose transaction commits after one holding a higher position', async () => {
    // Transaction A takes the lower position and stays open…
    let releaseA!: () => void;
    const aMayCommit = new Promise<void>((resolve) => (releaseA = resolve));
    let aAppended!: () => void;
    const aHasAppended = new Promise<void>((resolve) => (aAppended = resolve));
    const a = s.db.transaction(async (tx) => {
      const { events } = await s.log.append(tx, 'a', [{ type: 'A', data: {} }], 0);
      aAppended();
      await aMayCommit;
      return events[0]!.globalPosition;
    });
    await aHasAppended;
    // …while B takes a higher position and commits.
    const other = await s.openAnother();
    const b = (await other.db.transaction((tx) => other.log.append(tx, 'b', [{ type: 'B', data: {} }], 0))).events[0]!.globalPosition;

    // A follower that reads now must not pass B: A could still commit below it.
    const early = await s.log.readAfter(LOG_START, 100);
    expect(early.events).toEqual([]);
    // What a position-only reader would do: it sees B and moves past A's position for good.
    const byPosition = await s.log.readByPosition(s.db.sql, 0, 100);
    expect(byPosition.map((e) => e.type)).toEqual(['B']);

    releaseA();
    const positionOfA = await a;
    expect(positionOfA).toBeLessThan(b);
    const seen: RecordedEvent[] = [];
    let cursor = early.cursor;
    for (;;) {
      const page = await s.log.readAfter(cursor, 1);
      seen.push(...page.events);
      cursor = page.cursor;
      if (page.caughtUp) break;
    }
    expect(seen.map((e) => e.type).sort()).toEqual(['A', 'B']);
    // And nothing is read twice afterwards.
    expect((await s.log.readAfter(cursor, 100)).events).toEqual([]);
  });
});
