import { describe, expect, it } from 'vitest';
import type { DomainEvent } from '@handinger-webhooks/contracts';
import { EventStore, openDatabase } from '@handinger-webhooks/event-store';
import { createProjector } from './projector.js';
import { ReadModels } from './queries.js';
import { ensureReadModels, rebuildReadModels } from './rebuild.js';
import { LIVE_TABLES } from './tables.js';
import { useLiveReadModels } from './test-support/live-read-models.js';

const live = useLiveReadModels();

const at = '2026-01-01T00:00:00.000Z';
const workerId = (n: number) => `t_org_1_w_${String(n).padStart(26, '0')}`;

/** A small but complete history for worker n: created, webhook set and rotated, a key, and some executions. */
function history(n: number): [string, DomainEvent][] {
  const w = workerId(n);
  return [
    [`worker-${w}`, { type: 'WorkerCreated', data: { workerId: w, organizationId: 'org_1', userId: 'u1', title: `w${n}`, instructions: '', summary: '', visibility: 'public', createdAt: at } }],
    [`webhook-${w}`, { type: 'WebhookConfigured', data: { workerId: w, url: 'https://a.example/h', token: `tok${n}`, signingSecret: `whsec_${n}`, configuredAt: at } }],
    [`webhook-${w}`, { type: 'WebhookTokenRotated', data: { workerId: w, token: `tok${n}b`, signingSecret: `whsec_${n}b`, rotatedAt: at } }],
    [`apikey-key_${n}`, { type: 'ApiKeyIssued', data: { keyId: `key_${n}`, keyHash: `hash${n}`, role: 'user', organizationId: 'org_1', userId: 'u1', name: null, issuedAt: at } }],
    [`delivery-msg_${n}`, { type: 'DeliveryScheduled', data: { deliveryId: `msg_${n}`, workerId: w, taskId: `t${n}`, webhookGeneration: 1, dueAt: at, scheduledAt: at } }],
    ...[1, 2, 3].map((a): [string, DomainEvent] => [
      `delivery-msg_${n}`,
      {
        type: 'DeliveryAttempted',
        data: {
          deliveryId: `msg_${n}`, workerId: w, attempt: a, executionId: `whe_${n}_${a}`, startedAt: `2026-01-01T00:00:0${a}.000Z`,
          durationMs: 1, url: 'https://a.example/h', requestStatus: 'error', responseStatus: 500, errorMessage: 'HTTP 500',
          taskId: `t${n}`, taskTitle: null, dueAt: a === 1 ? at : `2026-01-01T0${a - 1}:00:00.000Z`, nextAttemptAt: `2026-01-01T0${a}:00:00.000Z`,
        },
      },
    ]),
  ];
}

const appendHistory = (target: EventStore, n: number) =>
  target.transaction(() => history(n).forEach(([stream, event]) => target.append(stream, [event], 'any')));

const snapshot = () =>
  Object.fromEntries(Object.values(LIVE_TABLES).map((t) => [t, live.db.prepare(`SELECT * FROM ${t} ORDER BY 1`).all()]));

describe('rebuildReadModels', () => {
  it('rebuilds identical read models, and can do it again (index names do not collide)', async () => {
    for (let n = 1; n <= 20; n++) appendHistory(live.store, n);
    const before = snapshot();
    const progress: number[] = [];
    const result = await rebuildReadModels(live.db, { batchSize: 7, onProgress: (p) => progress.push(p.processed) });
    expect(result).toEqual({ events: 160, swapped: true, difference: null });
    expect(snapshot()).toEqual(before);
    expect(progress.at(-1)).toBe(160);
    expect(progress.length).toBeGreaterThan(20);
    await rebuildReadModels(live.db);
    expect(snapshot()).toEqual(before);
    expect(live.readModels.executionsPage(workerId(3), 1).totalCount).toBe(3);
    // Each delivery still waits for its 4th attempt, at the time the 3rd decided.
    expect(live.db.prepare(`SELECT due_at, attempt FROM ${LIVE_TABLES.deliveryQueue} WHERE delivery_id = 'msg_3'`).get()).toEqual({
      due_at: Date.parse('2026-01-01T03:00:00.000Z'),
      attempt: 4,
    });
  });

  it('verify reports nothing for identical read models and swaps nothing', async () => {
    appendHistory(live.store, 1);
    const tablesBefore = live.db.prepare("SELECT name FROM sqlite_master ORDER BY name").all();
    expect(await rebuildReadModels(live.db, { verify: true })).toEqual({ events: 8, swapped: false, difference: null });
    expect(live.db.prepare("SELECT name FROM sqlite_master ORDER BY name").all()).toEqual(tablesBefore);
  });

  it('verify names the first difference, without printing secrets', async () => {
    appendHistory(live.store, 1);
    live.db.prepare(`UPDATE ${LIVE_TABLES.webhooks} SET url = 'https://evil.example/'`).run();
    const { difference } = await rebuildReadModels(live.db, { verify: true });
    expect(difference).toMatch(/^webhooks: live row .*evil\.example.* is not in the rebuilt read model$/);
    expect(difference).not.toContain('tok1b');
    expect(difference).not.toContain('whsec_1b');
    expect(difference).toContain('[redacted]');
  });

  it('verify notices a row missing from the live read models', async () => {
    appendHistory(live.store, 1);
    live.db.prepare(`DELETE FROM ${LIVE_TABLES.executions} WHERE id = 'whe_1_2'`).run();
    expect((await rebuildReadModels(live.db, { verify: true })).difference).toMatch(/^webhook_executions: rebuilt row .*whe_1_2.* is not in the live read model$/);
  });

  it('is safe while another connection keeps writing: nothing appended meanwhile is lost', async () => {
    const writerDb = openDatabase(live.dir.file('app.db'));
    const writer = new EventStore(writerDb, { onAppended: createProjector(writerDb, LIVE_TABLES) });
    const writerReads = new ReadModels(writerDb);
    for (let n = 1; n <= 200; n++) appendHistory(live.store, n);
    let n = 200;
    const rebuilding = rebuildReadModels(live.db, { batchSize: 50 });
    // The writer interleaves appends with the rebuild's batches (the rebuild yields between them).
    const writing = (async () => {
      while (n < 260) {
        appendHistory(writer, ++n);
        await new Promise((r) => setImmediate(r));
      }
    })();
    await Promise.all([rebuilding, writing]);
    appendHistory(writer, ++n); // the writer's prepared statements still work after the swap
    expect(writerReads.worker(workerId(n))?.title).toBe(`w${n}`);
    expect((await rebuildReadModels(live.db, { verify: true })).difference).toBeNull();
    expect(live.db.prepare(`SELECT COUNT(*) AS c FROM ${LIVE_TABLES.workers}`).get()).toEqual({ c: n });
    writerDb.close();
  });

  it('ensureReadModels rebuilds read models left by another projection version', async () => {
    appendHistory(live.store, 1);
    live.db.prepare(`DELETE FROM ${LIVE_TABLES.workers}`).run();
    expect(await ensureReadModels(live.db)).toBe('ready'); // same version: trusted as is
    live.db.prepare("UPDATE read_models_meta SET value = '0' WHERE key = 'version'").run();
    expect(await ensureReadModels(live.db)).toBe('rebuilt');
    expect(live.readModels.worker(workerId(1))?.title).toBe('w1');
  });
});
