import type { DomainEvent } from '@handinger-webhooks/contracts';
import { EventLog, type TxSql } from '@handinger-webhooks/event-store';
import { DeliveryClaims, LIVE_TABLES, ensureReadModels, rebuildReadModels } from '@handinger-webhooks/projections';
import { TEST_BACKENDS } from '@handinger-webhooks/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStorageUnderTest, type StorageUnderTest } from './storage-under-test.js';

const at = '2026-01-01T00:00:00.000Z';
const workerId = (n: number) => `t_org_1_w_${String(n).padStart(26, '0')}`;

/** A small but complete history for worker n: created, webhook set and rotated, a key, a delivery with three failed attempts. */
function history(n: number): [string, DomainEvent][] {
  const w = workerId(n);
  return [
    [`worker-${w}`, { type: 'WorkerCreated', data: { workerId: w, organizationId: 'org_1', userId: 'u1', title: `w${n}`, instructions: '', summary: '', visibility: 'public', createdAt: at } }],
    [`webhook-${w}`, { type: 'WebhookConfigured', data: { workerId: w, url: 'https://a.example/h', token: `tok${n}`, signingSecret: `whsec_${n}`, configuredAt: at } }],
    [`webhook-${w}`, { type: 'WebhookTokenRotated', data: { workerId: w, token: `tok${n}b`, signingSecret: `whsec_${n}b`, rotatedAt: at } }],
    [`apikey-key_${n}`, { type: 'ApiKeyIssued', data: { keyId: `key_${n}`, keyHash: `hash${n}`, role: 'user', organizationId: 'org_1', userId: 'u1', name: null, issuedAt: at } }],
    [`delivery-msg_${n}`, { type: 'DeliveryScheduled', data: { deliveryId: `msg_${n}`, workerId: w, taskId: `t${n}`, taskPosition: 1, webhookGeneration: 1, dueAt: at, scheduledAt: at } }],
    ...[1, 2, 3].map((a): [string, DomainEvent] => [
      `delivery-msg_${n}`,
      {
        type: 'DeliveryAttempted',
        data: {
          deliveryId: `msg_${n}`, workerId: w, attempt: a, executionId: `whe_${n}_${a}`, startedAt: `2026-01-01T00:00:0${a}.000Z`,
          durationMs: 1, url: 'https://a.example/h', requestStatus: 'error', responseStatus: 500, errorMessage: 'HTTP 500',
          taskId: `t${n}`, taskTitle: null, dueAt: a === 1 ? at : `2026-01-01T0${a - 1}:00:00.000Z`, nextAttemptAt: `2026-01-01T0${a}:00:00.000Z`,
          nextAttempt: a + 1, result: 'retry',
        },
      },
    ]),
  ];
}

describe.each(TEST_BACKENDS)('rebuilding the read models on %s', (backend) => {
  let s: StorageUnderTest;
  beforeEach(async () => {
    s = await openStorageUnderTest(backend);
  });
  afterEach(() => s.close());

  const appendHistory = (log: EventLog, n: number) =>
    log.db.transaction(async (tx) => {
      for (const [stream, event] of history(n)) await log.append(tx, stream, [event], 'any');
    });
  const snapshot = async () => {
    const tables: Record<string, unknown[]> = {};
    for (const t of Object.values(LIVE_TABLES)) tables[t] = await s.db.sql.all(`SELECT * FROM ${t} ORDER BY 1, 2`);
    return tables;
  };
  const rebuild = (options: Parameters<typeof rebuildReadModels>[2] = {}) => rebuildReadModels(s.db, new EventLog(s.db), options);

  it('rebuilds identical read models, and can do it again (names never collide)', async () => {
    for (let n = 1; n <= 20; n++) await appendHistory(s.log, n);
    const before = await snapshot();
    const progress: number[] = [];
    const result = await rebuild({ batchSize: 7, onProgress: (p) => progress.push(p.processed) });
    expect(result).toEqual({ events: 160, swapped: true, difference: null });
    expect(await snapshot()).toEqual(before);
    expect(progress.at(-1)).toBe(160);
    expect(progress.length).toBeGreaterThan(20);
    await rebuild();
    expect(await snapshot()).toEqual(before);
    expect((await s.readModels.executionsPage(workerId(3), 1)).totalCount).toBe(3);
    // The delivery still waits for its 4th attempt, at the time the 3rd decided.
    expect(await s.db.sql.get(`SELECT due_at, attempt FROM ${LIVE_TABLES.deliveryQueue} WHERE delivery_id = 'msg_3'`)).toEqual({
      due_at: Date.parse('2026-01-01T03:00:00.000Z'),
      attempt: 4,
    });
  });

  it('leaves live claims alone: attempts in flight stay claimed across the swap', async () => {
    for (let n = 1; n <= 3; n++) {
      const w = workerId(n);
      await s.db.transaction(async (tx) => {
        await s.log.append(tx, `worker-${w}`, [history(n)[0]![1]], 0);
        const { events } = await s.log.append(tx, `webhook-${w}`, [history(n)[1]![1]], 0);
        await s.log.append(tx, `delivery-msg_${n}`, [{ type: 'DeliveryScheduled', data: { deliveryId: `msg_${n}`, workerId: w, taskId: `t${n}`, taskPosition: 1, webhookGeneration: events[0]!.globalPosition, dueAt: at, scheduledAt: at } }], 0);
      });
    }
    const claims = new DeliveryClaims();
    const claimed = await s.db.transaction((tx) => claims.claim(tx, { owner: 'p', ttlMs: 60_000, globalCap: 10, perOriginCap: 10, limit: 2 }));
    expect(claimed.attempts).toHaveLength(2);
    await rebuild();
    const rows = await s.db.sql.all<{ delivery_id: string; claim_token: string | null }>(
      `SELECT q.delivery_id, c.token AS claim_token FROM ${LIVE_TABLES.deliveryQueue} q LEFT JOIN delivery_claims c ON c.delivery_id = q.delivery_id ORDER BY q.delivery_id`,
    );
    expect(rows).toHaveLength(3);
    expect(rows.filter((r) => r.claim_token !== null).map((r) => r.claim_token).sort()).toEqual(claimed.attempts.map((a) => a.claimToken).sort());
    expect((await rebuild({ verify: true })).difference).toBeNull();
    // Nothing else can claim them meanwhile.
    expect((await s.db.transaction((tx) => claims.claim(tx, { owner: 'q', ttlMs: 60_000, globalCap: 10, perOriginCap: 10, limit: 10 }))).attempts).toHaveLength(1);
  });

  it("rebuilds the same read models when transactions' works run twice, the first run rolled back (Database.transaction allows it)", async () => {
    for (let n = 1; n <= 20; n++) await appendHistory(s.log, n);
    const before = await snapshot();
    class RolledBack extends Error {}
    // The real database, but every other work first runs in a transaction that is then rolled back, as a retry would
    // leave it (every other: what a rolled-back run leaves in memory must not reach the next transaction either).
    let transactions = 0;
    const runsTwice = new Proxy(s.db, {
      get(target, property) {
        if (property !== 'transaction') return Reflect.get(target, property, target);
        return async <T>(work: (tx: TxSql) => Promise<T>): Promise<T> => {
          if (transactions++ % 2 === 1) return target.transaction(work);
          await target.transaction(async (tx) => {
            await work(tx);
            throw new RolledBack();
          }).catch((error: unknown) => {
            if (!(error instanceof RolledBack)) throw error;
          });
          return target.transaction(work);
        };
      },
    });
    const result = await rebuildReadModels(runsTwice, new EventLog(runsTwice), { batchSize: 7 });
    expect(result).toEqual({ events: 160, swapped: true, difference: null });
    expect(await snapshot()).toEqual(before);
  });

  it('verify reports nothing for identical read models and swaps nothing', async () => {
    await appendHistory(s.log, 1);
    const before = await snapshot();
    expect(await rebuild({ verify: true })).toEqual({ events: 8, swapped: false, difference: null });
    expect(await snapshot()).toEqual(before);
  });

  it('verify names the first difference, without printing secrets', async () => {
    await appendHistory(s.log, 1);
    await s.db.sql.run(`UPDATE ${LIVE_TABLES.webhooks} SET url = 'https://evil.example/'`);
    const { difference } = await rebuild({ verify: true });
    expect(difference).toMatch(/^webhooks: live row .*evil\.example.* is not in the rebuilt read model$/);
    expect(difference).not.toContain('tok1b');
    expect(difference).not.toContain('whsec_1b');
    expect(difference).toContain('[redacted]');
  });

  it('verify notices a row missing from the live read models', async () => {
    await appendHistory(s.log, 1);
    await s.db.sql.run(`DELETE FROM ${LIVE_TABLES.executions} WHERE id = 'whe_1_2'`);
    expect((await rebuild({ verify: true })).difference).toMatch(/^webhook_executions: rebuilt row .*whe_1_2.* is not in the live read model$/);
  });

  it('is safe while another process keeps writing: nothing appended meanwhile is lost', async () => {
    const writer = await s.openAnother();
    for (let n = 1; n <= 100; n++) await appendHistory(s.log, n);
    let n = 100;
    const rebuilding = rebuild({ batchSize: 50 });
    const writing = (async () => {
      while (n < 140) {
        await appendHistory(writer.log, ++n);
        await new Promise((r) => setImmediate(r));
      }
    })();
    await Promise.all([rebuilding, writing]);
    await appendHistory(writer.log, ++n); // the writer's statements still work after the swap
    expect((await s.readModels.worker(workerId(n)))?.title).toBe(`w${n}`);
    expect((await rebuild({ verify: true })).difference).toBeNull();
    expect(Number((await s.db.sql.get<{ c: number }>(`SELECT COUNT(*) AS c FROM ${LIVE_TABLES.workers}`))!.c)).toBe(n);
  });

  it('ensureReadModels rebuilds read models left by another projection version', async () => {
    await appendHistory(s.log, 1);
    await s.db.sql.run(`DELETE FROM ${LIVE_TABLES.workers}`);
    expect(await ensureReadModels(s.db, new EventLog(s.db))).toBe('ready'); // same version: trusted as is
    await s.db.sql.run("UPDATE read_models_meta SET value = '0' WHERE key = 'version'");
    expect(await ensureReadModels(s.db, new EventLog(s.db))).toBe('rebuilt');
    expect((await s.readModels.worker(workerId(1)))?.title).toBe('w1');
  });
});
