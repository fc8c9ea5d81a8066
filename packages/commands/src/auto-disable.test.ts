import { afterEach, describe, expect, it } from 'vitest';
import { TEST_BACKENDS, createTestDatabase, type TestDatabase } from '@handinger-webhooks/testing';
import { openApplication, type Application } from './application.js';

/**
 * SPEC §8.5's automatic disable, with the clock in the test's hands: every
 * attempt failed for HANDINGER_DISABLE_AFTER, counted from the first
 * failure after the last success, and a notification exhausted its
 * retries meanwhile. Real databases, real commands; only time is chosen.
 */

const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const MINUTE = 60_000;
const databases: TestDatabase[] = [];
const apps: Application[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
  for (const database of databases.splice(0)) await database.drop();
});

describe.each(TEST_BACKENDS)('the automatic disable on %s', (backend) => {
  let now = T0;
  let executions = 0;

  async function setUp() {
    const database = await createTestDatabase(backend);
    databases.push(database);
    const app = await openApplication({ db: database.db, secretKey: database.secretKey, clock: () => new Date(now) });
    apps.push(app);
    const worker = await app.commands.createWorker({ organizationId: 'org_a', userId: 'u1' }, { title: 'w' });
    await app.commands.setWebhook(worker.id, 'https://a.example/hook');
    return { app, workerId: worker.id };
  }

  /** Sends the due attempt of `taskId` at minute `at`, answered `status`; returns whether the recording disabled the webhook. */
  async function attempt(app: Application, taskId: string, at: number, status: number): Promise<boolean> {
    now = T0 + at * MINUTE;
    const claim = await app.database.transaction((tx) => app.claims.claim(tx, { owner: 'test', ttlMs: 600_000, globalCap: 1_000, perOriginCap: 1_000, limit: 1_000 }));
    const target = claim.attempts.find((a) => a.taskId === taskId)!;
    await app.database.transaction((tx) => app.claims.release(tx, claim.attempts.filter((a) => a !== target).map((a) => a.claimToken)));
    const [recorded] = await app.commands.recordAttempts(
      [{ claim: target, executionId: `whe_${String(++executions).padStart(26, '0')}`, startedAt: new Date(now).toISOString(), durationMs: 5, url: target.url, responseStatus: status, transportError: null, taskTitle: null, retryScheduleMs: [0, 0] }],
      { disableAfterMs: 60 * MINUTE },
    );
    return recorded!.recorded && recorded!.webhookDisabled === true;
  }

  it('counts the failure span from the first failure after the last success, and needs an exhausted notification', async () => {
    const { app, workerId } = await setUp();
    await app.commands.recordTaskCompletion({ taskId: 'a', workerId, status: 'completed' });
    await app.commands.recordTaskCompletion({ taskId: 'b', workerId, status: 'completed' });
    await app.commands.recordTaskCompletion({ taskId: 'c', workerId, status: 'completed' });
    expect(await attempt(app, 'a', 0, 500)).toBe(false); // failing since minute 0
    expect(await attempt(app, 'b', 30, 200)).toBe(false); // a success: the span ends
    expect(await attempt(app, 'a', 50, 500)).toBe(false); // failing since minute 50
    expect(await attempt(app, 'a', 70, 500)).toBe(false); // exhausted, but only 20 minutes of failures (70 since the first one)
    expect((await app.readModels.webhook(workerId))!.status).toBe('active');
    expect(await attempt(app, 'c', 109, 500)).toBe(false); // 59 minutes
    expect(await attempt(app, 'c', 111, 500)).toBe(true); // 61 minutes, a notification exhausted in the span
    expect(await app.readModels.webhook(workerId)).toMatchObject({ status: 'disabled', disabled_reason: 'failing', disabled_at: new Date(T0 + 111 * MINUTE).toISOString() });
  });

  it('does not disable on long failures until a notification has exhausted its retries, and an enable starts a new span', async () => {
    const { app, workerId } = await setUp();
    await app.commands.recordTaskCompletion({ taskId: 'x', workerId, status: 'completed' });
    await app.commands.recordTaskCompletion({ taskId: 'y', workerId, status: 'completed' });
    expect(await attempt(app, 'x', 0, 500)).toBe(false);
    expect(await attempt(app, 'y', 90, 503)).toBe(false); // 90 minutes of failures, nothing exhausted yet
    expect(await attempt(app, 'x', 91, 500)).toBe(false);
    expect(await attempt(app, 'x', 92, 500)).toBe(true); // x exhausted: disabled
    now = T0 + 100 * MINUTE;
    await app.commands.enableWebhook(workerId);
    expect((await app.readModels.webhook(workerId))!.failing_since).toBeNull();
    expect(await attempt(app, 'y', 101, 500)).toBe(false);
    expect(await attempt(app, 'y', 150, 500)).toBe(false); // exhausted, but 49 minutes since the enable
    expect((await app.readModels.webhook(workerId))!.status).toBe('active');
  });

  it('starts a new span when a PUT changes the URL', async () => {
    const { app, workerId } = await setUp();
    await app.commands.recordTaskCompletion({ taskId: 'p', workerId, status: 'completed' });
    await app.commands.recordTaskCompletion({ taskId: 'q', workerId, status: 'completed' });
    expect(await attempt(app, 'p', 0, 500)).toBe(false);
    expect(await attempt(app, 'p', 50, 500)).toBe(false);
    now = T0 + 55 * MINUTE;
    await app.commands.setWebhook(workerId, 'https://b.example/hook');
    expect((await app.readModels.webhook(workerId))!.failing_since).toBeNull();
    expect(await attempt(app, 'p', 70, 500)).toBe(false); // exhausted, 70 minutes after the first failure but the first since the PUT
    expect(await attempt(app, 'q', 129, 500)).toBe(false); // 59 minutes of the new span
    expect(await attempt(app, 'q', 131, 500)).toBe(true);
  });
});
