import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { DomainError } from '@handinger-webhooks/domain';
import { EventLog } from '@handinger-webhooks/event-store';
import { LIVE_TABLES, rebuildReadModels } from '@handinger-webhooks/projections';
import { TEST_BACKENDS, createTestDatabase, type TestDatabase } from '@handinger-webhooks/testing';
import { openApplication, type Application } from './application.js';

/** Every row of every live read model, in a stable order. */
async function snapshot(app: Application): Promise<Record<string, unknown[]>> {
  const tables: Record<string, unknown[]> = {};
  for (const table of Object.values(LIVE_TABLES)) {
    const rows = await app.database.sql.all(`SELECT * FROM ${table}`);
    tables[table] = rows.map((row) => JSON.stringify(row)).sort();
  }
  return tables;
}

const T0 = Date.parse('2026-03-01T00:00:00.000Z');

/** The commands a history is made of; worker and key references are indexes into what exists so far. */
const command = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('createWorker' as const), org: fc.constantFrom('org_a', 'org_b') }), weight: 2 },
  fc.record({ kind: fc.constant('deleteWorker' as const), worker: fc.nat(9) }),
  {
    arbitrary: fc.record({
      kind: fc.constant('setWebhook' as const),
      worker: fc.nat(9),
      url: fc.option(fc.constantFrom('https://a.example/h', 'https://b.example/h', 'https://c.example:8443/x'), { nil: null, freq: 4 }),
    }),
    weight: 3,
  },
  fc.record({ kind: fc.constant('deleteWebhook' as const), worker: fc.nat(9) }),
  fc.record({ kind: fc.constant('rotateToken' as const), worker: fc.nat(9), gracePeriodSeconds: fc.constantFrom(0, 3600) }),
  fc.record({ kind: fc.constant('disable' as const), worker: fc.nat(9) }),
  fc.record({ kind: fc.constant('enable' as const), worker: fc.nat(9) }),
  fc.record({ kind: fc.constant('redeliver' as const), execution: fc.nat(30) }),
  fc.record({ kind: fc.constant('recover' as const), worker: fc.nat(9), dryRun: fc.boolean() }),
  fc.record({ kind: fc.constant('sendTest' as const), worker: fc.nat(9), status: fc.constantFrom(200, 500) }),
  {
    arbitrary: fc.record({
      kind: fc.constant('completeTask' as const),
      worker: fc.nat(9),
      task: fc.nat(15),
      status: fc.constantFrom('completed' as const, 'error' as const, 'aborted' as const),
    }),
    weight: 4,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant('attempt' as const),
      delivery: fc.nat(15),
      status: fc.option(fc.constantFrom(200, 204, 302, 410, 500, 503), { nil: null }),
      startedOffsetMs: fc.integer({ min: 0, max: 60_000 }),
    }),
    weight: 6,
  },
  fc.record({ kind: fc.constant('dropDelivery' as const), delivery: fc.nat(15) }),
  fc.record({ kind: fc.constant('issueKey' as const), service: fc.boolean() }),
  fc.record({ kind: fc.constant('revokeKey' as const), key: fc.nat(5) }),
  fc.record({ kind: fc.constant('portalSession' as const), worker: fc.nat(9), readOnly: fc.boolean() }),
);

type Command = typeof command extends fc.Arbitrary<infer C> ? C : never;

async function run(app: Application, history: Command[]) {
  const workers: string[] = [];
  const keys: string[] = [];
  let executions = 0;
  const pick = <T>(list: T[], i: number): T | undefined => (list.length ? list[i % list.length] : undefined);
  for (const c of history) {
    try {
      switch (c.kind) {
        case 'createWorker':
          workers.push((await app.commands.createWorker({ organizationId: c.org, userId: 'u1' }, { title: 'w' })).id);
          break;
        case 'deleteWorker':
          if (pick(workers, c.worker)) await app.commands.deleteWorker(pick(workers, c.worker)!);
          break;
        case 'setWebhook':
          if (pick(workers, c.worker)) await app.commands.setWebhook(pick(workers, c.worker)!, c.url);
          break;
        case 'deleteWebhook':
          if (pick(workers, c.worker)) await app.commands.deleteWebhook(pick(workers, c.worker)!);
          break;
        case 'rotateToken':
          if (pick(workers, c.worker)) await app.commands.rotateToken(pick(workers, c.worker)!, c.gracePeriodSeconds);
          break;
        case 'disable':
          if (pick(workers, c.worker)) await app.commands.disableWebhook(pick(workers, c.worker)!);
          break;
        case 'enable':
          if (pick(workers, c.worker)) await app.commands.enableWebhook(pick(workers, c.worker)!);
          break;
        case 'redeliver': {
          const executions = await app.database.sql.all<{ id: string; worker_id: string }>('SELECT id, worker_id FROM webhook_executions ORDER BY id');
          const execution = pick(executions, c.execution);
          if (execution) await app.commands.redeliver(execution.worker_id, execution.id);
          break;
        }
        case 'recover': {
          const workerId = pick(workers, c.worker);
          if (!workerId) break;
          const view = await app.commands.startRecovery(workerId, { since: '2026-01-01T00:00:00.000Z', dryRun: c.dryRun });
          if (view.row !== null) while (!(await app.commands.advanceRecovery(view.row.id)));
          break;
        }
        case 'sendTest': {
          const workerId = pick(workers, c.worker);
          const webhook = workerId === undefined ? undefined : await app.readModels.webhook(workerId);
          if (!webhook) break;
          const deliveryId = `msg_test_${++executions}`;
          const token = await app.database.transaction((tx) =>
            app.claims.reserveSlot(tx, { deliveryId, origin: webhook.origin, owner: 'test', ttlMs: 600_000, globalCap: 100_000, perOriginCap: 100_000 }),
          );
          await app.commands.recordTestAttempt(workerId!, deliveryId, {
            executionId: `whe_${String(++executions).padStart(26, '0')}`,
            startedAt: new Date(T0 + executions).toISOString(),
            durationMs: 2,
            url: webhook.url,
            responseStatus: c.status,
            transportError: null,
            retryAfterMs: null,
            userAgent: 'Handinger-Webhooks/test',
          }, token!);
          break;
        }
        case 'completeTask': {
          const workerId = pick(workers, c.worker);
          if (!workerId) break;
          await app.commands.recordTaskCompletion({ taskId: `task_${c.task}`, workerId, status: c.status, title: 't' });
          break;
        }
        case 'attempt': {
          // Retries are due at once (delays of 0), so every pending delivery is claimable: claim them all, send one.
          const claim = await app.database.transaction((tx) => app.claims.claim(tx, { owner: 'test', ttlMs: 600_000, globalCap: 100_000, perOriginCap: 100_000, limit: 100_000 }));
          await app.commands.dropDeliveries(claim.orphans);
          const target = pick(claim.attempts, c.delivery);
          if (target) {
            await app.commands.recordAttempts([
              {
                claim: target,
                executionId: `whe_${String(++executions).padStart(26, '0')}`,
                startedAt: new Date(T0 + c.startedOffsetMs).toISOString(),
                durationMs: 3,
                url: target.url,
                responseStatus: c.status,
                transportError: c.status === null ? 'connection refused' : null,
                taskTitle: null,
                retryScheduleMs: [0, 0, 0],
                retryAfterMs: c.status === 503 ? 1_000 : null,
                jitter: 0.5,
                userAgent: 'Handinger-Webhooks/test',
              },
            ], { disableAfterMs: 1 });
          }
          const others = claim.attempts.filter((a) => a !== target).map((a) => a.claimToken);
          await app.database.transaction((tx) => app.claims.release(tx, others));
          break;
        }
        case 'dropDelivery': {
          // Deliveries of removed or replaced webhooks are dropped when claimed.
          const claim = await app.database.transaction((tx) => app.claims.claim(tx, { owner: 'test', ttlMs: 600_000, globalCap: 100_000, perOriginCap: 100_000, limit: 100_000 }));
          await app.commands.dropDeliveries(claim.orphans);
          await app.database.transaction((tx) => app.claims.release(tx, claim.attempts.map((a) => a.claimToken)));
          break;
        }
        case 'issueKey':
          keys.push(
            (
              await app.commands.issueApiKey(
                c.service
                  ? { role: 'service', organizationId: null, userId: null, name: 'svc' }
                  : { role: 'user', organizationId: 'org_a', userId: 'u1', name: null },
              )
            ).row.id,
          );
          break;
        case 'revokeKey':
          if (pick(keys, c.key)) await app.commands.revokeApiKey(pick(keys, c.key)!);
          break;
        case 'portalSession':
          if (pick(workers, c.worker)) await app.portalSessions.create(pick(workers, c.worker)!, { expiresInSeconds: 900, readOnly: c.readOnly });
          break;
      }
    } catch (error) {
      if (!(error instanceof DomainError)) throw error; // rejected commands are part of any real history
    }
  }
}

const databases: TestDatabase[] = [];
afterEach(async () => {
  for (const database of databases.splice(0)) await database.drop();
});

describe.each(TEST_BACKENDS)('read models on %s', (backend) => {
  const seen: Record<string, number> = Object.fromEntries(Object.values(LIVE_TABLES).map((t) => [t, 0]));

  it('built inline equal read models rebuilt from the log, for random command histories', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 80, size: 'max' }), async (history) => {
        const database = await createTestDatabase(backend);
        databases.push(database);
        const app = await openApplication({ db: database.db, secretKey: database.secretKey });
        try {
          await run(app, history);
          const inline = await snapshot(app);
          for (const [table, rows] of Object.entries(inline)) seen[table] = (seen[table] ?? 0) + rows.length;
          const log = new EventLog(app.database);
          expect((await rebuildReadModels(app.database, log, { verify: true })).difference).toBeNull();
          await rebuildReadModels(app.database, log);
          expect(await snapshot(app)).toEqual(inline);
        } finally {
          await app.close();
        }
      }),
      {
        numRuns: backend === 'sqlite' ? 40 : 20,
        // One history that surely reaches every read model (a pending delivery, an execution, a key, a webhook), whatever the random ones do.
        examples: [
          [
            [
              { kind: 'createWorker', org: 'org_a' },
              { kind: 'setWebhook', worker: 0, url: 'https://a.example/h' },
              { kind: 'issueKey', service: true },
              { kind: 'completeTask', worker: 0, task: 1, status: 'completed' },
              { kind: 'attempt', delivery: 0, status: 500, startedOffsetMs: 10 },
              { kind: 'completeTask', worker: 0, task: 2, status: 'error' },
              // Out of retries (and disabled for failing), recovered, tested, redelivered, held by a disable.
              { kind: 'attempt', delivery: 0, status: 500, startedOffsetMs: 20 },
              { kind: 'attempt', delivery: 0, status: 500, startedOffsetMs: 30 },
              { kind: 'attempt', delivery: 0, status: 500, startedOffsetMs: 40 },
              { kind: 'enable', worker: 0 },
              { kind: 'rotateToken', worker: 0, gracePeriodSeconds: 3600 },
              { kind: 'recover', worker: 0, dryRun: false },
              { kind: 'sendTest', worker: 0, status: 200 },
              { kind: 'redeliver', execution: 0 },
              // Whatever is pending then ends in failure (a single attempt, or out of retries): a failed notification stays.
              { kind: 'attempt', delivery: 0, status: 500, startedOffsetMs: 50 },
              { kind: 'attempt', delivery: 0, status: 500, startedOffsetMs: 60 },
              { kind: 'attempt', delivery: 0, status: 500, startedOffsetMs: 70 },
              { kind: 'attempt', delivery: 0, status: 500, startedOffsetMs: 80 },
              { kind: 'enable', worker: 0 },
              { kind: 'disable', worker: 0 },
              { kind: 'completeTask', worker: 0, task: 3, status: 'completed' },
              { kind: 'portalSession', worker: 0, readOnly: true },
              // And a pending delivery in the queue, of another worker.
              { kind: 'createWorker', org: 'org_a' },
              { kind: 'setWebhook', worker: 1, url: 'https://b.example/h' },
              { kind: 'completeTask', worker: 1, task: 4, status: 'completed' },
            ],
          ],
        ],
      },
    );
    // The histories must reach every read model, or the property proves little.
    expect(Object.values(LIVE_TABLES).filter((table) => seen[table] === 0)).toEqual([]);
  }, 240_000);
});
