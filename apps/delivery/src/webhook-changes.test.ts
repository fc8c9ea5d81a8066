import { describe, expect, it } from 'vitest';
import type { Reply } from '@handinger-webhooks/testing';
import {
  completeTask,
    deliveryEvents,
  executions,
  queueSize,
  untilCommitted,
  waitForExecutions,
  workerWithWebhook,
  type TestBed,
  useTestBed,
  openedWebhook,
} from './test-support/fixture.js';

let bed: TestBed;
const { receiver } = useTestBed((created) => (bed = created));

/** A reply the test releases when it is ready: the attempt stays in flight until then. */
function gate(): { reply: Promise<Reply>; open(reply: Reply): void } {
  let open!: (reply: Reply) => void;
  const reply = new Promise<Reply>((resolve) => (open = resolve));
  return { reply, open };
}

describe('an attempt uses the webhook as it is when the attempt starts', () => {
  it('sends the rotated token on the next attempt', async () => {
    const first = gate();
    const r = await receiver();
    r.script(first.reply);
    const workerId = await workerWithWebhook(bed.app, r.url);
    const before = openedWebhook(bed.app, workerId);
    await completeTask(bed.app, workerId);
    bed.deliver({ retryScheduleMs: [20] });

    await r.waitForRequests(1);
    await bed.app.commands.rotateToken(workerId);
    const rotated = openedWebhook(bed.app, workerId);
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
});

describe('a webhook moved away from a saturated origin', () => {
  it('gets its waiting deliveries claimed for the new origin at once, not at the next poll', async () => {
    const slow = await receiver(() => ({ hang: true }));
    const fast = await receiver();
    const workerId = await workerWithWebhook(bed.app, slow.url);
    for (let i = 0; i < 3; i++) await completeTask(bed.app, workerId);
    // One slot per origin: the first attempt hangs on the slow origin, the other two wait for that slot.
    // A poll far beyond the test: only the webhook change may make them claimable.
    bed.deliver({ globalConcurrency: 4, perOriginConcurrency: 1, timeoutMs: 20_000, pollIntervalMs: 60_000, shutdownTimeoutMs: 0 });
    await slow.waitForRequests(1);

    const before = Date.now();
    await bed.app.commands.setWebhook(workerId, `${fast.url}/moved`);
    const requests = await fast.waitForRequests(2, 10_000);
    expect(requests[1]!.receivedAt - before).toBeLessThan(5_000);
    expect(requests.map((q) => q.path)).toEqual(['/moved', '/moved']);
    expect(slow.requests).toHaveLength(1);
    await untilCommitted(bed.app, () => executions(bed.app, workerId).length === 2, 10_000, 'both moved deliveries recorded');
  });
});

describe('removing the webhook ends pending deliveries', () => {
  /** Resolves once the delivery's stream ends with DeliveryDropped. */
  const dropped = (deliveryId: string) =>
    untilCommitted(bed.app, () => deliveryEvents(bed.app, deliveryId).at(-1) === 'DeliveryDropped', 15_000, `${deliveryId} dropped`);

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
    expect(r.requests.map((q) => (JSON.parse(q.body) as { data: { taskId: string } }).data.taskId)).toEqual([oldTask, newTask]);
    expect(deliveryEvents(bed.app, deliveryId)).toEqual(['DeliveryScheduled', 'DeliveryAttempted', 'DeliveryDropped']);
    expect(queueSize(bed.app)).toBe(0);
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

    expect(executions(bed.app, workerId)).toMatchObject([{ responseStatus: 500, errorMessage: 'HTTP 500' }]);
    expect(queueSize(bed.app)).toBe(0);
    expect(service.inFlight()).toBe(0);
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
    expect(queueSize(bed.app)).toBe(0);
    expect(service.stats().dropped).toBe(1);
    expect(r.requests).toHaveLength(1);
  });

  it('drops a pending delivery of another webhook generation instead of sending it', async () => {
    const r = await receiver();
    const workerId = await workerWithWebhook(bed.app, r.url);
    const taskId = await completeTask(bed.app, workerId);
    const generation = bed.app.readModels.webhook(workerId)!.generation;
    // A delivery opened under a generation that is not the current one (defensive path of the claimer).
    const deliveryId = await bed.app.commands.scheduleDelivery({ workerId, taskId, webhookGeneration: generation - 1 });
    const service = bed.deliver();

    // The completion itself is delivered (one request); the stray delivery is dropped.
    await r.waitForRequests(1);
    await waitForExecutions(bed.app, workerId, 1);
    expect(deliveryEvents(bed.app, deliveryId)).toEqual(['DeliveryScheduled', 'DeliveryDropped']);
    expect(service.stats().dropped).toBe(1);
    expect(r.requests).toHaveLength(1);
    expect(r.requests[0]!.headers['webhook-id']).not.toBe(deliveryId);
  });
});

describe('which completions are delivered', () => {
  it('does not deliver a completion accepted while no webhook was configured, even if one is set before the scheduler runs', async () => {
    const r = await receiver();
    const workerId = await workerWithWebhook(bed.app, null);
    const before = await completeTask(bed.app, workerId);
    await bed.app.commands.setWebhook(workerId, r.url);
    const after = await completeTask(bed.app, workerId);
    bed.deliver();

    await r.waitForRequests(1);
    await waitForExecutions(bed.app, workerId, 1);
    expect(executions(bed.app, workerId).map((e) => e.taskId)).toEqual([after]);
    expect(queueSize(bed.app)).toBe(0);
    expect(r.requests.map((q) => (JSON.parse(q.body) as { data: { taskId: string } }).data.taskId)).toEqual([after]);
    expect(before).not.toBe(after);
  });

  it('does not deliver a completion whose webhook was removed before the scheduler ran', async () => {
    const r = await receiver();
    const workerId = await workerWithWebhook(bed.app, r.url);
    await completeTask(bed.app, workerId);
    await bed.app.commands.deleteWebhook(workerId);
    await bed.app.commands.setWebhook(workerId, r.url);
    const after = await completeTask(bed.app, workerId);
    bed.deliver();

    await waitForExecutions(bed.app, workerId, 1);
    expect(executions(bed.app, workerId).map((e) => e.taskId)).toEqual([after]);
    expect(r.requests).toHaveLength(1);
  });

  it('schedules each completion once, even with two delivery instances on one database', async () => {
    const r = await receiver();
    const second = await bed.openSecondApp();
    const workerId = await workerWithWebhook(bed.app, r.url);
    const tasks = await Promise.all(Array.from({ length: 20 }, () => completeTask(bed.app, workerId)));
    bed.deliver();
    const other = (await import('./delivery-service.js')).startDelivery(second, {
      version: 'x',
      allowPrivateNetwork: true,
      retryScheduleMs: [50],
      pollIntervalMs: 20,
    });
    try {
      await waitForExecutions(bed.app, workerId, 20, 15_000, [second]);
      const scheduled = bed.app.store
        .readAll(0, 10_000)
        .filter((e) => e.type === 'DeliveryScheduled')
        .map((e) => (e.data as { taskId: string }).taskId);
      expect(scheduled.sort()).toEqual([...tasks].sort());
      expect(executions(bed.app, workerId)).toHaveLength(20);
    } finally {
      await other.stop();
    }
  });
});
