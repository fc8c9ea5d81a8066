import { describe, expect, it } from 'vitest';
import type { DeliveryAttempted } from '@handinger-webhooks/contracts';
import { LIVE_TABLES } from './tables.js';
import { useLiveReadModels } from './test-support/live-read-models.js';

const W = 't_org_1_w_01HZY2ZJQ8G7K42W2D7WF6V4GM';
const OTHER = 't_org_1_w_01HZY2ZJQ8G7K42W2D7WF6V4GN';
const T0 = Date.parse('2026-01-01T00:00:00.000Z');

const live = useLiveReadModels();

/** Execution `n` of a worker: started n seconds after T0, id sortable by n. */
const attempt = (workerId: string, n: number, startedAtMs = T0 + n * 1000): DeliveryAttempted => ({
  type: 'DeliveryAttempted',
  data: {
    deliveryId: `msg_${n}`,
    workerId,
    attempt: 1,
    executionId: `whe_${workerId === W ? '0' : 'Z'}${String(n).padStart(25, '0')}`,
    startedAt: new Date(startedAtMs).toISOString(),
    durationMs: 5,
    url: 'https://a.example/hook',
    requestStatus: 'success',
    responseStatus: 200,
    errorMessage: null,
    taskId: `task_${n}`,
    taskTitle: null,
    dueAt: new Date(startedAtMs).toISOString(),
    nextAttemptAt: null,
  },
});

/** Records executions 1..count for the worker (one stream per execution, as deliveries are), in one transaction. */
function record(workerId: string, count: number, first = 1): void {
  live.store.transaction(() => {
    for (let n = first; n < first + count; n++) live.store.append(`delivery-${workerId}-${n}`, [attempt(workerId, n)], 'any');
  });
}

const ids = (from: number, to: number) =>
  Array.from({ length: from - to + 1 }, (_, i) => `whe_${String(from - i).padStart(26, '0')}`);

describe('execution pages', () => {
  it.each([
    { rows: 0, page: 1, expected: { pageCount: 0, ids: [] as string[] } },
    { rows: 1, page: 1, expected: { pageCount: 1, ids: ids(1, 1) } },
    { rows: 1, page: 2, expected: { pageCount: 1, ids: [] } },
    { rows: 50, page: 1, expected: { pageCount: 1, ids: ids(50, 1) } },
    { rows: 50, page: 2, expected: { pageCount: 1, ids: [] } },
    { rows: 51, page: 1, expected: { pageCount: 2, ids: ids(51, 2) } },
    { rows: 51, page: 2, expected: { pageCount: 2, ids: ids(1, 1) } },
    { rows: 100, page: 2, expected: { pageCount: 2, ids: ids(50, 1) } },
    { rows: 100, page: 3, expected: { pageCount: 2, ids: [] } },
  ])('$rows rows, page $page', ({ rows, page, expected }) => {
    record(W, rows);
    record(OTHER, 3); // another worker's executions never leak in
    const result = live.readModels.executionsPage(W, page);
    expect(result).toMatchObject({ page, pageCount: expected.pageCount, totalCount: rows });
    expect(result.logs.map((l) => l.id)).toEqual(expected.ids);
    expect(result.logs.every((l) => l.workerId === W)).toBe(true);
  });

  it('maps every field of an execution', () => {
    record(W, 1);
    expect(live.readModels.executionsPage(W, 1).logs[0]).toEqual({
      id: ids(1, 1)[0],
      createdAt: '2026-01-01T00:00:01.000Z',
      durationMs: 5,
      errorMessage: null,
      requestStatus: 'success',
      responseStatus: 200,
      taskId: 'task_1',
      taskTitle: null,
      url: 'https://a.example/hook',
      workerId: W,
    });
  });

  it('serves a deep page of 200,000 executions newest first, by key ranges only', () => {
    record(W, 200_000);
    const deep = live.readModels.executionsPage(W, 3_999);
    expect(deep).toMatchObject({ page: 3_999, pageCount: 4_000, totalCount: 200_000 });
    expect(deep.logs.map((l) => l.id)).toEqual(ids(100, 51));
    expect(live.readModels.executionsPage(W, 4_000).logs.map((l) => l.id)).toEqual(ids(50, 1));
    expect(live.readModels.executionsPage(W, 1).logs.map((l) => l.id)).toEqual(ids(200_000, 199_951));

    const plan = (query: string) =>
      live.db
        .prepare(`EXPLAIN QUERY PLAN ${query}`)
        .all(W)
        .map((row) => (row as { detail: string }).detail)
        .join('\n');
    const t = LIVE_TABLES.executions;
    // The page and the count are both seeks on the (worker_id, seq) primary key: no scan, no sort.
    for (const query of [
      `SELECT * FROM ${t} WHERE worker_id = ? AND seq BETWEEN 1 AND 50 ORDER BY seq DESC`,
      `SELECT seq FROM ${t} WHERE worker_id = ? ORDER BY seq DESC LIMIT 1`,
    ]) {
      expect(plan(query)).toMatch(/SEARCH .* USING PRIMARY KEY \(worker_id=\?/);
      expect(plan(query)).not.toMatch(/SCAN|TEMP B-TREE/);
    }
  });

  it('ranks an attempt recorded late (it started earlier) by its start time', () => {
    live.store.transaction(() => {
      live.store.append('d1', [attempt(W, 1)], 'any');
      live.store.append('d3', [attempt(W, 3)], 'any');
      live.store.append('d4', [attempt(W, 4)], 'any');
      live.store.append('d2', [attempt(W, 2)], 'any'); // the slow one
      live.store.append('d0', [attempt(W, 0)], 'any'); // older than all
    });
    expect(live.readModels.executionsPage(W, 1).logs.map((l) => l.taskId)).toEqual(['task_4', 'task_3', 'task_2', 'task_1', 'task_0']);
  });

  it('breaks ties on createdAt by id, newest first', () => {
    live.store.transaction(() => {
      live.store.append('a', [attempt(W, 7, T0)], 'any');
      live.store.append('b', [attempt(W, 9, T0)], 'any');
      live.store.append('c', [attempt(W, 8, T0)], 'any');
    });
    expect(live.readModels.executionsPage(W, 1).logs.map((l) => l.taskId)).toEqual(['task_9', 'task_8', 'task_7']);
  });
});
