import { describe, expect, it } from 'vitest';
import type { DeliveryScheduled } from '@handinger-webhooks/contracts';
import { TEST_BACKENDS, type Reply } from '@handinger-webhooks/testing';
import {
  completeTask,
  deliveryEvents,
  executions,
  openedWebhook,
  queueSize,
  untilCommitted,
  useTestBed,
  waitForExecutions,
  workerWithWebhook,
  type TestBed,
} from './test-support/fixture.js';

/** A reply the test releases when it is ready: the attempt stays in flight until then. */
function gate(): { reply: Promise<Reply>; open(reply: Reply): void } {
  let open!: (reply: Reply) => void;
  const reply = new Promise<Reply>((resolve) => (open = resolve));
  return { reply, open };
}

const taskIdOf = (body: string): string => (JSON.parse(body) as { data: { taskId: string } }).data.taskId;

describe.each(TEST_BACKENDS)('webhook changes (%s)', (backend) => {
  let bed: TestBed;
  const { receiver } = useTestBed((created) => (bed = created), backend);

  /** Resolves once the delivery's stream ends with DeliveryDropped. */
  const dropped = (deliveryId: string) =>
    untilCommitted(bed.app, async () => (await deliveryEvents(bed.app, deliveryId)).at(-1) === 'DeliveryDropped', 15_000, `${deliveryId} dropped`);

  describe('an attempt uses the webhook as it is when the attempt starts', () => {
    it('sends the rotated token on the next attempt', async () => {
      const first = gate();
      const r = await receiver();
      r.script(first.reply);
      const workerId = await workerWithWebhook(bed.app, r.url);
      const before = await openedWebhook(bed.app, workerId);
      await completeTask(bed.app, workerId);
      bed.deliver({ retryScheduleMs: [20] });

      await r.waitForRequests(1);
      await bed.app.commands.rotateToken(workerId);
      const rotated = await openedWebhook(bed.app, workerId);
      first.open({ status: 500 });
      const [q1, q2] = await r.waitForRequests(2);

      expect(q1!.headers['x-handinger-token']).toBe(before.token);
      expect(q2!.headers['x-handinger-token']).toBe(rotated.token);
      expect(rotated.token).not.toBe(before.token);
      expect(q2!.headers['webhook-id']).toBe(q1!.headers['webhook-id']);
      await waitForExecutions(bed.app, workerId, 2);
    });

    it('sends the next attempt to the new URL, and logs the URL each attempt used', async () => {
      const first = gate();
      const a = await receiver();
      const b = await receiver();
      a.script(first.reply);
      const workerId = await workerWithWebhook(bed.app, `${a.url}/a`);
      await completeTask(bed.app, workerId);
      bed.deliver({ retryScheduleMs: [20] });

      await a.waitForRequests(1);
      await bed.app.commands.setWebhook(workerId, `${b.url}/b`);
      first.open({ status: 500 });
      const [q] = await b.waitForRequests(1);
      const list = await waitForExecutions(bed.app, workerId, 2);

      expect(q!.path).toBe('/b');
      expect(list.map((e) => [e.url, e.responseStatus])).toEqual([
        [`${a.url}/a`, 500],
        [`${b.url}/b`, 200],
      ]);
      expect(a.requests).toHaveLength(1);
    });

    it('sends a delivery that never started to the URL set since (a URL change keeps the webhook, so nothing is dropped)', async () => {
      const a = await receiver();
      const b = await receiver();
      const workerId = await workerWithWebhook(bed.app, `${a.url}/a`);
      const taskId = await completeTask(bed.app, workerId);
      await bed.app.commands.setWebhook(workerId, `${b.url}/b`);
      const service = bed.deliver();

      const [q] = await b.waitForRequests(1);
      const [execution] = await waitForExecutions(bed.app, workerId, 1);
      expect(taskIdOf(q!.body)).toBe(taskId);
      expect(execution).toMatchObject({ url: `${b.url}/b`, responseStatus: 200, taskId });
      expect(a.connections()).toBe(0);
      expect(service.stats().dropped).toBe(0);
    });
  });

  describe('a webhook moved away from a saturated origin', () => {
    it('gets its waiting deliveries sent to the new origin without waiting for the old one', async () => {
      const slow = await receiver(() => ({ hang: true }));
      const fast = await receiver();
      const workerId = await workerWithWebhook(bed.app, slow.url);
      for (let i = 0; i < 3; i++) await completeTask(bed.app, workerId);
      // One slot per origin: the first attempt hangs on the slow origin (20 s), the other two wait for that slot.
      const service = bed.deliver({ globalConcurrency: 4, perOriginConcurrency: 1, timeoutMs: 20_000, shutdownTimeoutMs: 0 });
      await slow.waitForRequests(1);

      const before = Date.now();
      await bed.app.commands.setWebhook(workerId, `${fast.url}/moved`);
      const requests = await fast.waitForRequests(2, 10_000);
      // Claimed for the new origin at the next look (a poll at the latest), far from the slow origin's 20 s timeout.
      expect(requests[1]!.receivedAt - before).toBeLessThan(5_000);
      expect(requests.map((q) => q.path)).toEqual(['/moved', '/moved']);
      expect(slow.requests).toHaveLength(1);
      await untilCommitted(bed.app, async () => (await executions(bed.app, workerId)).length === 2, 10_000, 'both moved deliveries recorded');
      expect(service.inFlight()).toBe(1);
    });
  });

  describe('removing the webhook ends pending deliveries', () => {
    it('drops the retry of an attempt that failed before the removal; a webhook set again does not get it', async () => {
      const r = await receiver(() => ({ status: 500 }));
      const workerId = await workerWithWebhook(bed.app, r.url);
      const oldTask = await completeTask(bed.app, workerId);
      bed.deliver({ retryScheduleMs: [300] });
      const [first] = await r.waitForRequests(1);
      await waitForExecutions(bed.app, workerId, 1);
      const deliveryId = String(first!.headers['webhook-id']);

      await bed.app.commands.deleteWebhook(workerId);
      // Set again at once: a new generation, which must not inherit the pending retry.
      await bed.app.commands.setWebhook(workerId, r.url);
      await dropped(deliveryId);

      r.script({ status: 200 });
      const newTask = await completeTask(bed.app, workerId);
      await waitForExecutions(bed.app, workerId, 2);
      expect(r.requests.map((q) => taskIdOf(q.body))).toEqual([oldTask, newTask]);
      expect(await deliveryEvents(bed.app, deliveryId)).toEqual(['DeliveryScheduled', 'DeliveryAttempted', 'DeliveryDropped']);
      expect(await queueSize(bed.app)).toBe(0);
    });

    it('ends a delivery whose attempt was in flight during the removal: recorded, then dropped, never retried', async () => {
      const first = gate();
      const r = await receiver();
      r.script(first.reply);
      const workerId = await workerWithWebhook(bed.app, r.url);
      await completeTask(bed.app, workerId);
      const service = bed.deliver({ retryScheduleMs: [10] });

      const [request] = await r.waitForRequests(1);
      await bed.app.commands.deleteWebhook(workerId);
      await bed.app.commands.setWebhook(workerId, r.url);
      first.open({ status: 500 });
      await dropped(String(request!.headers['webhook-id']));

      expect(await executions(bed.app, workerId)).toMatchObject([{ responseStatus: 500, errorMessage: 'HTTP 500' }]);
      expect(await queueSize(bed.app)).toBe(0);
      await untilCommitted(bed.app, () => service.inFlight() === 0, 5_000, 'the dropped delivery settled');
      expect(r.requests).toHaveLength(1);
    });

    it('stops pending retries when the worker is deleted', async () => {
      const r = await receiver(() => ({ status: 500 }));
      const workerId = await workerWithWebhook(bed.app, r.url);
      await completeTask(bed.app, workerId);
      const service = bed.deliver({ retryScheduleMs: [200] });
      const [request] = await r.waitForRequests(1);
      await waitForExecutions(bed.app, workerId, 1);

      await bed.app.commands.deleteWorker(workerId);
      await dropped(String(request!.headers['webhook-id']));
      expect(await queueSize(bed.app)).toBe(0);
      expect(service.stats().dropped).toBe(1);
      expect(r.requests).toHaveLength(1);
    });

    it('drops a delivery whose webhook was removed before its first attempt, without a connection', async () => {
      const r = await receiver();
      const workerId = await workerWithWebhook(bed.app, r.url);
      await completeTask(bed.app, workerId);
      const [scheduled] = await scheduledDeliveries(bed);
      await bed.app.commands.deleteWebhook(workerId);
      const service = bed.deliver();

      await dropped(scheduled!.deliveryId);
      expect(await deliveryEvents(bed.app, scheduled!.deliveryId)).toEqual(['DeliveryScheduled', 'DeliveryDropped']);
      expect(service.stats()).toMatchObject({ dropped: 1, attempted: 0 });
      expect(await executions(bed.app, workerId)).toEqual([]);
      expect(await queueSize(bed.app)).toBe(0);
      expect(r.connections()).toBe(0);
    });
  });

  describe('which completions are delivered', () => {
    it('does not deliver a completion accepted while no webhook was configured, even if one is set before delivery runs', async () => {
      const r = await receiver();
      const workerId = await workerWithWebhook(bed.app, null);
      const before = await completeTask(bed.app, workerId);
      // No delivery was opened for it, so there is nothing to claim later.
      expect(await queueSize(bed.app)).toBe(0);
      await bed.app.commands.setWebhook(workerId, r.url);
      const after = await completeTask(bed.app, workerId);
      bed.deliver();

      await r.waitForRequests(1);
      await waitForExecutions(bed.app, workerId, 1);
      expect((await executions(bed.app, workerId)).map((e) => e.taskId)).toEqual([after]);
      expect(await queueSize(bed.app)).toBe(0);
      expect(r.requests.map((q) => taskIdOf(q.body))).toEqual([after]);
      expect((await scheduledDeliveries(bed)).map((d) => d.taskId)).toEqual([after]);
      expect(before).not.toBe(after);
    });

    it('does not deliver a completion whose webhook was replaced before delivery ran: it is dropped', async () => {
      const r = await receiver();
      const workerId = await workerWithWebhook(bed.app, r.url);
      const first = await completeTask(bed.app, workerId);
      await bed.app.commands.deleteWebhook(workerId);
      await bed.app.commands.setWebhook(workerId, r.url);
      const after = await completeTask(bed.app, workerId);
      const service = bed.deliver();

      await waitForExecutions(bed.app, workerId, 1);
      const [stale] = (await scheduledDeliveries(bed)).filter((d) => d.taskId === first);
      await dropped(stale!.deliveryId);
      expect((await executions(bed.app, workerId)).map((e) => e.taskId)).toEqual([after]);
      expect(await deliveryEvents(bed.app, stale!.deliveryId)).toEqual(['DeliveryScheduled', 'DeliveryDropped']);
      expect(service.stats().dropped).toBe(1);
      expect(r.requests).toHaveLength(1);
      expect(r.requests[0]!.headers['webhook-id']).not.toBe(stale!.deliveryId);
    });

    it('opens one delivery per completion and sends each once, with two delivery services on one database', async () => {
      const r = await receiver();
      const second = await bed.openSecondApp();
      const workerId = await workerWithWebhook(bed.app, r.url);
      const tasks = await Promise.all(Array.from({ length: 20 }, () => completeTask(bed.app, workerId)));
      const one = bed.deliver({ retryScheduleMs: [50] });
      const other = bed.deliver({ retryScheduleMs: [50], pollIntervalMs: 20 }, {}, second);

      await waitForExecutions(bed.app, workerId, 20, 15_000, [second]);
      const scheduled = await scheduledDeliveries(bed);
      expect(scheduled.map((d) => d.taskId).sort()).toEqual([...tasks].sort());
      expect(await executions(bed.app, workerId)).toHaveLength(20);
      // No claim lapsed (7 s leases), so no attempt was made twice.
      expect(r.requests).toHaveLength(20);
      expect(new Set(r.requests.map((q) => q.headers['webhook-id']))).toEqual(new Set(scheduled.map((d) => d.deliveryId)));
      expect(one.stats().attempted + other.stats().attempted).toBe(20);
    });
  });
});

/** Every DeliveryScheduled in the log, in order. */
async function scheduledDeliveries(bed: TestBed): Promise<DeliveryScheduled['data'][]> {
  const events = await bed.app.log.readByPosition(bed.app.database.sql, 0, 100_000);
  return events.filter((e) => e.type === 'DeliveryScheduled').map((e) => (e as unknown as DeliveryScheduled).data);
}
