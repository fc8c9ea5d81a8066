import type { DeliveryAttempted, DomainEvent } from '@handinger-webhooks/contracts';
import { LIVE_TABLES } from '@handinger-webhooks/projections';
import { TEST_BACKENDS } from '@handinger-webhooks/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStorageUnderTest, type StorageUnderTest } from './storage-under-test.js';

const W = 't_org_1_w_01HZY2ZJQ8G7K42W2D7WF6V4GM';
const OTHER = 't_org_1_w_01HZY2ZJQ8G7K42W2D7WF6V4GN';
const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const at = '2026-01-01T00:00:00.000Z';

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
    result: 'delivered',
  },
});

const ids = (from: number, to: number) => Array.from({ length: from - to + 1 }, (_, i) => `whe_${String(from - i).padStart(26, '0')}`);

describe.each(TEST_BACKENDS)('read models on %s', (backend) => {
  let s: StorageUnderTest;
  beforeEach(async () => {
    s = await openStorageUnderTest(backend);
  });
  afterEach(() => s.close());

  /** Appends each event to its own stream, in one transaction (executions are recorded one delivery stream each). */
  const appendAll = (events: [string, DomainEvent][]) =>
    s.db.transaction(async (tx) => {
      for (const [stream, event] of events) await s.log.append(tx, stream, [event], 'any');
    });
  const record = (workerId: string, count: number, first = 1) =>
    appendAll(Array.from({ length: count }, (_, i) => [`delivery-${workerId}-${first + i}`, attempt(workerId, first + i)]));

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
    ])('$rows rows, page $page', async ({ rows, page, expected }) => {
      await record(W, rows);
      await record(OTHER, 3); // another worker's executions never leak in
      const result = await s.readModels.executionsPage(W, page);
      expect(result).toMatchObject({ page, pageCount: expected.pageCount, totalCount: rows });
      expect(result.logs.map((l) => l.id)).toEqual(expected.ids);
      expect(result.logs.every((l) => l.workerId === W)).toBe(true);
    });

    it('maps every field of an execution, with the same types on both backends', async () => {
      await record(W, 1);
      expect((await s.readModels.executionsPage(W, 1)).logs[0]).toStrictEqual({
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

    it('ranks an attempt recorded late (it started earlier) by its start time', async () => {
      await appendAll([1, 3, 4, 2, 0].map((n) => [`d${n}`, attempt(W, n)])); // 2 is the slow one; 0 older than all
      expect((await s.readModels.executionsPage(W, 1)).logs.map((l) => l.taskId)).toEqual(['task_4', 'task_3', 'task_2', 'task_1', 'task_0']);
    });

    it('ranks executions of one worker recorded by concurrent transactions without gaps or clashes', async () => {
      const others = await Promise.all([s.openAnother(), s.openAnother(), s.openAnother()]);
      await Promise.all(
        others.map((other, k) =>
          other.db.transaction(async (tx) => {
            for (let i = 0; i < 20; i++) await other.log.append(tx, `c${k}-${i}`, [attempt(W, k * 100 + i)], 'any');
          }),
        ),
      );
      const page = await s.readModels.executionsPage(W, 1);
      expect(page.totalCount).toBe(60);
      const all = [...page.logs, ...(await s.readModels.executionsPage(W, 2)).logs].map((l) => l.createdAt);
      expect(all).toEqual([...all].sort().reverse());
    });

    it('breaks ties on createdAt by id, newest first', async () => {
      await appendAll([7, 9, 8].map((n) => [`t${n}`, attempt(W, n, T0)]));
      expect((await s.readModels.executionsPage(W, 1)).logs.map((l) => l.taskId)).toEqual(['task_9', 'task_8', 'task_7']);
    });

    it('serves a deep page by key ranges only: no scan, no sort', async () => {
      const total = backend === 'sqlite' ? 20_000 : 5_000;
      for (let first = 1; first <= total; first += 1_000) await record(W, 1_000, first);
      const pages = total / 50;
      expect(await s.readModels.executionsPage(W, pages - 1)).toMatchObject({ page: pages - 1, pageCount: pages, totalCount: total });
      expect((await s.readModels.executionsPage(W, pages - 1)).logs.map((l) => l.id)).toEqual(ids(100, 51));
      expect((await s.readModels.executionsPage(W, pages)).logs.map((l) => l.id)).toEqual(ids(50, 1));
      expect((await s.readModels.executionsPage(W, 1)).logs.map((l) => l.id)).toEqual(ids(total, total - 49));

      const t = LIVE_TABLES.executions;
      const queries = [`SELECT * FROM ${t} WHERE worker_id = ? AND seq BETWEEN 1 AND 50 ORDER BY seq DESC`, `SELECT seq FROM ${t} WHERE worker_id = ? ORDER BY seq DESC LIMIT 1`];
      if (backend === 'sqlite') {
        for (const query of queries) {
          const plan = (await s.db.sql.all<{ detail: string }>(`EXPLAIN QUERY PLAN ${query}`, [W])).map((row) => row.detail).join('\n');
          expect(plan).toMatch(/SEARCH .* USING PRIMARY KEY \(worker_id=\?/);
          expect(plan).not.toMatch(/SCAN|TEMP B-TREE/);
        }
      } else {
        await s.db.sql.run(`ANALYZE ${t}`);
        for (const query of queries) {
          const plan = (await s.db.sql.all<{ 'QUERY PLAN': string }>(`EXPLAIN ${query}`, [W])).map((row) => row['QUERY PLAN']).join('\n');
          expect(plan).toMatch(/Index (Only )?Scan( Backward)? using pk_webhook_executions/);
          expect(plan).not.toMatch(/Seq Scan|Sort/);
        }
      }
    });
  });

  it('projects workers, webhooks (with their generation) and API keys', async () => {
    const w = W;
    const [, configured] = await Promise.all([
      appendAll([[`worker-${w}`, { type: 'WorkerCreated', data: { workerId: w, organizationId: 'org_1', userId: 'u1', title: 'T', instructions: 'I', summary: 'S', visibility: 'private', createdAt: at } }]]),
      s.db.transaction((tx) => s.log.append(tx, `webhook-${w}`, [{ type: 'WebhookConfigured', data: { workerId: w, url: 'https://a.example:8443/h?x=1', token: 'sealed-t', signingSecret: 'sealed-s', configuredAt: at } }], 0)),
    ]);
    await appendAll([[`apikey-key_1`, { type: 'ApiKeyIssued', data: { keyId: 'key_1', keyHash: 'h1', role: 'service', organizationId: null, userId: null, name: 'runner', issuedAt: at } }]]);
    expect(await s.readModels.worker(w)).toStrictEqual({
      id: w,
      organization_id: 'org_1',
      user_id: 'u1',
      title: 'T',
      instructions: 'I',
      summary: 'S',
      visibility: 'private',
      created_at: at,
      updated_at: at,
      deleted_at: null,
    });
    expect(await s.readModels.webhook(w)).toStrictEqual({
      worker_id: w,
      url: 'https://a.example:8443/h?x=1',
      origin: 'https://a.example:8443',
      token: 'sealed-t',
      signing_secret: 'sealed-s',
      generation: configured.events[0]!.globalPosition,
      updated_at: at,
      previous_signing_secret: null,
      previous_secret_expires_at: null,
      status: 'active',
      disabled_reason: null,
      disabled_at: null,
      held_count: 0,
      failing_since: null,
      exhausted_in_span: 0,
    });
    expect(await s.readModels.isLiveWorker(w)).toBe(true);
    expect(await s.db.transaction((tx) => s.readModels.isLiveWorker(w, { sql: tx, lock: true }))).toBe(true);
    expect(await s.readModels.isLiveWorker('t_org_1_w_unknown')).toBe(false);
    expect(await s.readModels.apiKeyByHash('h1')).toMatchObject({ id: 'key_1', role: 'service', organization_id: null, revoked_at: null });
    expect(await s.readModels.hasApiKeys()).toBe(true);
    await appendAll([
      [`webhook-${w}`, { type: 'WebhookRemoved', data: { workerId: w, reason: 'worker_deleted', removedAt: at } }],
      [`worker-${w}`, { type: 'WorkerDeleted', data: { workerId: w, deletedAt: '2026-01-02T00:00:00.000Z' } }],
      [`apikey-key_1`, { type: 'ApiKeyRevoked', data: { keyId: 'key_1', revokedAt: at } }],
    ]);
    expect(await s.readModels.webhook(w)).toBeUndefined();
    expect((await s.readModels.worker(w))?.deleted_at).toBe('2026-01-02T00:00:00.000Z');
    expect(await s.readModels.isLiveWorker(w)).toBe(false);
    expect(await s.db.transaction((tx) => s.readModels.isLiveWorker(w, { sql: tx, lock: true }))).toBe(false);
    expect((await s.readModels.apiKeyById('key_1'))?.revoked_at).toBe(at);
  });
});
