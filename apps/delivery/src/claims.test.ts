import { describe, expect, it } from 'vitest';
import type { DeliveryAttempted } from '@handinger-webhooks/contracts';
import { TEST_BACKENDS } from '@handinger-webhooks/testing';
import {
  completeTask,
  deliveryStream,
  executions,
  observe,
  queueRows,
  queueSize,
  untilCommitted,
  useTestBed,
  waitForExecutions,
  workerWithWebhook,
  type TestBed,
} from './test-support/fixture.js';

const attemptsOf = (events: { type: string; data: unknown }[]): DeliveryAttempted['data'][] =>
  events.filter((e) => e.type === 'DeliveryAttempted').map((e) => e.data as DeliveryAttempted['data']);

describe.each(TEST_BACKENDS)('claims and processes (%s)', (backend) => {
  let bed: TestBed;
  const { receiver } = useTestBed((created) => (bed = created), backend);

  describe('at-least-once across crashes', () => {
    it("re-sends an attempt whose process died, once its claim lapsed, with the same webhook-id, and records it once", async () => {
      const r = await receiver();
      r.script({ hang: true });
      const workerId = await workerWithWebhook(bed.app, r.url);
      await completeTask(bed.app, workerId);

      // The first process claims and sends, then "dies": stop() with no patience abandons the
      // attempt unrecorded, as a SIGKILL would, and its claim (3 s) stays on the queue row.
      const first = bed.deliver({ timeoutMs: 3_000, leaseMarginMs: 0, shutdownTimeoutMs: 0 });
      const [original] = await r.waitForRequests(1);
      await first.stop();
      expect(await executions(bed.app, workerId)).toHaveLength(0);
      const [claimed] = await queueRows(bed.app);
      expect(claimed).toMatchObject({ deliveryId: String(original!.headers['webhook-id']), attempt: 1 });
      expect(claimed!.claimToken).not.toBeNull();
      expect(claimed!.claimExpiresAt).not.toBeNull();

      // Another process on the same database takes over when the claim lapses (woken by the lapse, not its 5 s poll).
      const second = await bed.openSecondApp();
      bed.deliver({ retryScheduleMs: [], pollIntervalMs: 5_000 }, {}, second);
      const [, resent] = await r.waitForRequests(2);
      const list = await waitForExecutions(bed.app, workerId, 1, 15_000, [second]);

      expect(resent!.headers['webhook-id']).toBe(original!.headers['webhook-id']);
      expect(resent!.body).toBe(original!.body);
      // Not before the claim lapsed (5 ms of slack between the clocks of the database and this process).
      expect(resent!.receivedAt).toBeGreaterThanOrEqual(claimed!.claimExpiresAt! - 5);
      expect(resent!.receivedAt - claimed!.claimExpiresAt!).toBeLessThan(4_000);
      expect(list).toMatchObject([{ requestStatus: 'success', responseStatus: 200 }]);
      expect(await queueSize(bed.app)).toBe(0);
      expect(r.requests).toHaveLength(2);
    });

    it('records a late send of an attempt another process already recorded as superseded: both are executions, the schedule moves once', async () => {
      const r = await receiver();
      r.script({ status: 500 }, { status: 500 });
      const workerId = await workerWithWebhook(bed.app, r.url);
      await completeTask(bed.app, workerId);

      // Process A sends attempt 1, then stalls before recording it (held) while its 1 s claim lapses.
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      // No poll within the test: A only looks again when work is signalled.
      const serviceA = bed.deliver(
        { version: 'A', timeoutMs: 1_000, leaseMarginMs: 0, pollIntervalMs: 60_000, retryScheduleMs: [60_000] },
        { beforeRecording: () => held },
      );
      const [fromA] = await r.waitForRequests(1);

      // Process B claims the lapsed attempt, sends it again and records it: a retry, due in a minute.
      const second = await bed.openSecondApp();
      const serviceB = bed.deliver({ version: 'B', retryScheduleMs: [60_000] }, {}, second);
      const [, fromB] = await r.waitForRequests(2);
      await waitForExecutions(bed.app, workerId, 1, 15_000, [second]);
      const deliveryId = String(fromA!.headers['webhook-id']);
      const [afterB] = await queueRows(bed.app);
      expect(afterB).toMatchObject({ deliveryId, attempt: 2, claimToken: null });

      // A comes back and records its send of attempt 1.
      release();
      const list = await waitForExecutions(bed.app, workerId, 2, 15_000, [second]);

      expect(fromA!.headers['user-agent']).toBe('Handinger-Webhooks/A');
      expect(fromB!.headers['user-agent']).toBe('Handinger-Webhooks/B');
      expect(fromB!.headers['webhook-id']).toBe(deliveryId);
      expect(fromB!.body).toBe(fromA!.body);
      // Both sends are executions (A's is a 500, or its 1 s timeout on a very busy machine).
      expect(list.map((e) => e.requestStatus)).toEqual(['error', 'error']);
      const events = await deliveryStream(bed.app, deliveryId);
      expect(events.map((e) => e.type)).toEqual(['DeliveryScheduled', 'DeliveryAttempted', 'DeliveryAttempted']);
      const [byB, byA] = attemptsOf(events);
      expect(byB).toMatchObject({ attempt: 1, result: 'retry', nextAttempt: 2, responseStatus: 500 });
      expect(byA).toMatchObject({ attempt: 1, result: 'superseded', nextAttempt: 2, nextAttemptAt: byB!.nextAttemptAt });
      // A's send started first (B only claimed it after A's claim lapsed).
      expect(Date.parse(byA!.startedAt)).toBeLessThanOrEqual(Date.parse(byB!.startedAt));
      // The schedule moved once: attempt 2, when B's recording said, and no claim left behind.
      expect(await queueRows(bed.app)).toEqual([{ ...afterB, dueAt: Date.parse(byB!.nextAttemptAt!) }]);
      await untilCommitted([bed.app, second], () => serviceA.inFlight() === 0, 5_000, 'A settled');
      expect(serviceA.stats()).toMatchObject({ attempted: 1, recorded: 1 });
      expect(serviceB.stats()).toMatchObject({ attempted: 1, recorded: 1 });
      expect(r.requests).toHaveLength(2);
    });

    it('records one send once, however often it is recorded (idempotent per execution id)', async () => {
      const workerId = await workerWithWebhook(bed.app, 'http://127.0.0.1:9/hook');
      await completeTask(bed.app, workerId);
      const { attempts } = await bed.app.database.transaction((tx) =>
        bed.app.claims.claim(tx, { owner: 'test', ttlMs: 60_000, globalCap: 10, perOriginCap: 10, limit: 10 }),
      );
      expect(attempts).toHaveLength(1);
      const send = {
        claim: attempts[0]!,
        executionId: 'whe_01HZY2ZJQ8G7K42W2D7WF6V4GM',
        startedAt: new Date().toISOString(),
        durationMs: 5,
        url: attempts[0]!.url,
        responseStatus: 500,
        transportError: null,
        taskTitle: null,
        retryScheduleMs: [60_000],
      };
      const [first, again] = await bed.app.commands.recordAttempts([send, send]);
      expect(first).toMatchObject({ recorded: true, result: 'retry' });
      expect(again).toEqual({ recorded: false, reason: 'duplicate' });
      expect(await bed.app.commands.recordAttempts([send])).toEqual([{ recorded: false, reason: 'duplicate' }]);
      expect(await executions(bed.app, workerId)).toMatchObject([{ responseStatus: 500 }]);
      expect(await queueRows(bed.app)).toMatchObject([{ attempt: 2, claimToken: null }]);
    });
  });

  describe('wake-ups', () => {
    it('claims a retry that fell due while it looked for the next due time at once, not at the next poll', async () => {
      const r = await receiver();
      r.script({ status: 500 });
      const workerId = await workerWithWebhook(bed.app, r.url);
      await completeTask(bed.app, workerId);
      // After the failed attempt the claim finds nothing due; the look for the next due time comes 300 ms
      // later (a busy machine), after the 100 ms retry fell due. A poll far beyond the test.
      const observed = observe(bed.app);
      observed.slowLookAhead(300);
      bed.deliver({ retryScheduleMs: [100], pollIntervalMs: 60_000 }, {}, observed.app);

      const [first, retry] = await r.waitForRequests(2, 10_000);
      expect(retry!.receivedAt - first!.receivedAt).toBeGreaterThanOrEqual(100);
      expect(retry!.receivedAt - first!.receivedAt).toBeLessThan(5_000);
      await waitForExecutions(bed.app, workerId, 2);
    });
  });

  describe('graceful stop', () => {
    it('waits for the attempt in flight and records it before resolving', async () => {
      const r = await receiver(() => ({ status: 204, delayMs: 300 }));
      const workerId = await workerWithWebhook(bed.app, r.url);
      await completeTask(bed.app, workerId);
      const service = bed.deliver();
      await r.waitForRequests(1);
      expect(service.inFlight()).toBe(1);

      await service.stop();

      expect(service.inFlight()).toBe(0);
      expect(service.running()).toBe(false);
      const list = await executions(bed.app, workerId);
      expect(list).toMatchObject([{ requestStatus: 'success', responseStatus: 204 }]);
      expect(list[0]!.durationMs).toBeGreaterThanOrEqual(290);
      expect(await queueSize(bed.app)).toBe(0);
    });

    it('resolves at once when nothing is in flight, however long it would wait for attempts', async () => {
      const r = await receiver();
      const workerId = await workerWithWebhook(bed.app, r.url);
      await completeTask(bed.app, workerId);
      const service = bed.deliver({ timeoutMs: 30_000, shutdownTimeoutMs: 30_000 });
      await waitForExecutions(bed.app, workerId, 1);
      const before = Date.now();
      await service.stop();
      // Generous for a loaded machine; the shutdown timeout is 30 s.
      expect(Date.now() - before).toBeLessThan(5_000);
    });

    it('gives up after shutdownTimeoutMs, leaving the attempt unrecorded to its claim', async () => {
      const r = await receiver(() => ({ hang: true }));
      const workerId = await workerWithWebhook(bed.app, r.url);
      await completeTask(bed.app, workerId);
      const service = bed.deliver({ timeoutMs: 30_000, shutdownTimeoutMs: 100 });
      await r.waitForRequests(1);
      const before = Date.now();
      await service.stop();
      expect(Date.now() - before).toBeLessThan(5_000);
      expect(service.inFlight()).toBe(0);
      expect(await executions(bed.app, workerId)).toHaveLength(0);
      // Still claimed, for the whole lease: a later run re-sends it once the claim lapses.
      const [row] = await queueRows(bed.app);
      expect(row).toMatchObject({ attempt: 1 });
      expect(row!.claimToken).not.toBeNull();
      expect(row!.claimExpiresAt! - Date.now()).toBeGreaterThan(20_000);
    });
  });
});
