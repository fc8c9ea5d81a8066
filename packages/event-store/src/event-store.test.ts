import { Worker } from 'node:worker_threads';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTempDir } from '@handinger-webhooks/testing';
import { openDatabase, type SqliteDatabase } from './database.js';
import { ConcurrencyError, EventStore, type RecordedEvent } from './event-store.js';
import { migrateEventStore } from './migrate.js';

let dir: ReturnType<typeof createTempDir>;
let db: SqliteDatabase;
let store: EventStore;

beforeEach(async () => {
  dir = createTempDir();
  db = openDatabase(dir.file('events.db'));
  await migrateEventStore(db);
  store = new EventStore(db);
});
afterEach(() => {
  db.close();
  dir.remove();
});

const event = (n: number) => ({ type: 'Counted', data: { n } });

describe('EventStore', () => {
  it('appends with stream and global positions and reads a stream back in order', () => {
    const first = store.append('a', [event(1), event(2)], 0);
    store.append('b', [event(3)], 0);
    const third = store.append('a', [{ ...event(4), metadata: { actor: 'key_1' } }], first.nextExpectedVersion);

    expect(first.nextExpectedVersion).toBe(2);
    expect(third.events[0]).toMatchObject({ streamPosition: 3, globalPosition: 4, metadata: { actor: 'key_1' } });
    const stream = store.readStream('a');
    expect(stream.map((e) => [e.streamPosition, e.globalPosition, e.data])).toEqual([
      [1, 1, { n: 1 }],
      [2, 2, { n: 2 }],
      [3, 4, { n: 4 }],
    ]);
    expect(stream[0]!.recordedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(store.streamVersion('a')).toBe(3);
    expect(store.streamVersion('missing')).toBe(0);
    expect(store.headPosition()).toBe(4);
  });

  it('rejects an append at a stale version with a typed error and writes nothing', () => {
    store.append('a', [event(1)], 0);
    let error: unknown;
    try {
      store.append('a', [event(2)], 0);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConcurrencyError);
    expect(error).toMatchObject({ streamId: 'a', expectedVersion: 0, actualVersion: 1 });
    expect(() => store.append('a', [event(2)], 5)).toThrow(ConcurrencyError);
    expect(store.headPosition()).toBe(1);
  });

  it('trusts a known version without reading it, and still catches a writer that appended meanwhile', () => {
    store.append('a', [event(1)], 0);
    expect(store.append('a', [event(2)], 1, { versionIsKnown: true }).events[0]).toMatchObject({ streamPosition: 2 });
    // A stale "known" version collides on the unique (stream, position) index: nothing is written.
    let error: unknown;
    try {
      store.append('a', [event(3), event(4)], 1, { versionIsKnown: true });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConcurrencyError);
    expect(error).toMatchObject({ expectedVersion: 1, actualVersion: 2 });
    expect(store.readStream('a').map((e) => e.data)).toEqual([{ n: 1 }, { n: 2 }]);
  });

  it('appends at any version when asked to', () => {
    store.append('a', [event(1)], 0);
    expect(store.append('a', [event(2)], 'any').nextExpectedVersion).toBe(2);
  });

  it('lets one of two interleaved writers win on separate connections', () => {
    const other = new EventStore(openDatabase(dir.file('events.db')));
    const seenByUs = store.streamVersion('s');
    const seenByThem = other.streamVersion('s');
    store.append('s', [event(1)], seenByUs);
    expect(() => other.append('s', [event(2)], seenByThem)).toThrow(ConcurrencyError);
    other.db.close();
  });

  it('lets exactly one of eight parallel writers append to one stream', async () => {
    // Real parallelism: eight threads, eight connections, the built EventStore (npm test builds first).
    const path = dir.file('events.db');
    const gate = new Int32Array(new SharedArrayBuffer(4));
    const source = `
      const { workerData, parentPort } = require('node:worker_threads');
      import(workerData.eventStore).then(({ EventStore, ConcurrencyError, openDatabase }) => {
        const store = new EventStore(openDatabase(workerData.path));
        const version = store.streamVersion('race');
        parentPort.postMessage('ready');
        Atomics.wait(new Int32Array(workerData.gate), 0, 0);
        try {
          store.append('race', [{ type: 'Won', data: {} }], version);
          parentPort.postMessage('won');
        } catch (error) {
          parentPort.postMessage(error instanceof ConcurrencyError ? 'conflict' : String(error));
        }
      });
    `;
    const eventStore = new URL('../dist/index.js', import.meta.url).href;
    const workers = Array.from({ length: 8 }, () => new Worker(source, { eval: true, workerData: { path, gate: gate.buffer, eventStore } }));
    const messages = workers.map((w) => {
      const queue: Promise<string>[] = [];
      const resolvers: ((m: string) => void)[] = [];
      for (let i = 0; i < 2; i++) queue.push(new Promise((resolve) => resolvers.push(resolve)));
      let received = 0;
      w.on('message', (m: string) => resolvers[received++]?.(m));
      w.once('error', (e) => resolvers.forEach((r) => r(String(e))));
      return queue;
    });
    // Release them together once all eight have read version 0 and wait on the gate.
    expect(await Promise.all(messages.map((m) => m[0]))).toEqual(Array(8).fill('ready'));
    const results = messages.map((m) => m[1]!);
    Atomics.store(gate, 0, 1);
    Atomics.notify(gate, 0);
    const outcomes = await Promise.all(results);
    await Promise.all(workers.map((w) => w.terminate()));
    expect(outcomes.sort()).toEqual(['conflict', 'conflict', 'conflict', 'conflict', 'conflict', 'conflict', 'conflict', 'won']);
    expect(store.readStream('race')).toHaveLength(1);
  });

  it('runs inline projections inside the append and rolls both back when one fails', async () => {
    const seen: RecordedEvent[] = [];
    const projecting = new EventStore(db, {
      onAppended: (events) => {
        for (const e of events) {
          if ((e.data as { n: number }).n < 0) throw new Error('projection refused');
          seen.push(e);
        }
      },
    });
    projecting.append('a', [event(1)], 0);
    expect(() => projecting.append('a', [event(-1)], 1)).toThrow('projection refused');
    expect(seen.map((e) => e.globalPosition)).toEqual([1]);
    expect(projecting.readStream('a')).toHaveLength(1);
  });

  it('rolls back every append of a failed transaction', () => {
    expect(() =>
      store.transaction(() => {
        store.append('a', [event(1)], 0);
        store.append('b', [event(2)], 0);
        throw new Error('abort');
      }),
    ).toThrow('abort');
    expect(store.headPosition()).toBe(0);
  });

  it('wakes subscribers after the commit, not before', () => {
    const heads: number[] = [];
    store.onCommit(() => heads.push(new EventStore(openDatabase(dir.file('events.db'))).headPosition()));
    store.transaction(() => {
      store.append('a', [event(1)], 0);
      store.append('a', [event(2)], 1);
    });
    expect(heads).toEqual([2]);
  });

  it('reads the log in pages, and leaves out excluded types inside SQLite', () => {
    for (let i = 0; i < 25; i++) store.append(`s${i % 3}`, [{ type: i % 5 === 0 ? 'Kept' : 'Noise', data: { n: i } }], 'any');
    expect(store.readAll(20, 10).map((e) => e.globalPosition)).toEqual([21, 22, 23, 24, 25]);
    expect(store.readAllExcept(0, 25, 10, ['Noise']).map((e) => [e.globalPosition, e.data])).toEqual([
      [1, { n: 0 }],
      [6, { n: 5 }],
      [11, { n: 10 }],
      [16, { n: 15 }],
      [21, { n: 20 }],
    ]);
    expect(store.readAllExcept(6, 16, 2, ['Noise']).map((e) => e.globalPosition)).toEqual([11, 16]);
    expect(store.readAllExcept(0, 25, 10, [])).toHaveLength(10);
  });

  it('refuses to edit or delete the log', () => {
    store.append('a', [event(1)], 0);
    expect(() => db.prepare("UPDATE events SET type = 'Forged'").run()).toThrow(/append-only/);
    expect(() => db.prepare('DELETE FROM events').run()).toThrow(/append-only/);
  });

  it('migrates idempotently', async () => {
    await migrateEventStore(db);
    await migrateEventStore(db);
    expect(store.headPosition()).toBe(0);
  });
});
