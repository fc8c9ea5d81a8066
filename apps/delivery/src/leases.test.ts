import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startReceiver, waitFor, type Receiver } from '@handinger-webhooks/testing';
import { startDelivery } from './delivery-service.js';
import { completeTask, createTestBed, executions, waitForExecutions, workerWithWebhook, type TestBed } from './test-support/fixture.js';

let bed: TestBed;
let r: Receiver;

beforeEach(async () => {
  bed = await createTestBed();
});

afterEach(async () => {
  await r?.close();
  await bed.close();
});

const leases = (bed: TestBed) => bed.app.db.prepare('SELECT name, owner, expires_at FROM leases').all() as { name: string; owner: string; expires_at: number }[];

describe('leases (at-least-once across crashes)', () => {
  it('re-sends an attempt whose claimer died, once its lease lapsed, and records it once', async () => {
    r = await startReceiver();
    r.script({ hang: true });
    const workerId = await workerWithWebhook(bed.app, r.url);
    await completeTask(bed.app, workerId);

    // The first instance claims and sends, then "dies": stop() with no patience abandons the
    // attempt unrecorded, as a SIGKILL would, and its lease (1 s) stays behind.
    const first = bed.deliver({ timeoutMs: 1_000, leaseMarginMs: 0, shutdownTimeoutMs: 0 });
    const [original] = await r.waitForRequests(1);
    await first.stop();
    expect(executions(bed.app, workerId)).toHaveLength(0);
    const [lease] = leases(bed);
    expect(lease!.name).toBe(`delivery:${String(original!.headers['webhook-id'])}`);

    // Another process on the same database file takes over when the lease lapses.
    const secondApp = await bed.openSecondApp();
    const second = startDelivery(secondApp, { version: 'x', allowPrivateNetwork: true, retryScheduleMs: [], pollIntervalMs: 5_000 });
    try {
      const [, resent] = await r.waitForRequests(2);
      const list = await waitForExecutions(bed.app, workerId, 1, 15_000, [secondApp]);

      expect(resent!.headers['webhook-id']).toBe(original!.headers['webhook-id']);
      expect(resent!.body).toBe(original!.body);
      // Not before the lease expired (the wake-up came from the lease's expiry, not the 5 s poll).
      expect(resent!.receivedAt).toBeGreaterThanOrEqual(lease!.expires_at - 5);
      expect(resent!.receivedAt - lease!.expires_at).toBeLessThan(4_000);
      expect(list).toMatchObject([{ requestStatus: 'success', responseStatus: 200 }]);
      expect(leases(bed)).toEqual([]);
    } finally {
      await second.stop();
    }
    expect(executions(bed.app, workerId)).toHaveLength(1);
  });

  it('does not record an attempt twice when two instances both made it', async () => {
    r = await startReceiver(() => ({ status: 500 }));
    const workerId = await workerWithWebhook(bed.app, r.url);
    await completeTask(bed.app, workerId);
    const [request] = await (async () => {
      const first = bed.deliver({ retryScheduleMs: [60_000] });
      const got = await r.waitForRequests(1);
      await waitForExecutions(bed.app, workerId, 1);
      await first.stop();
      return got;
    })();
    // A late duplicate of attempt 1 (e.g. from an instance whose lease had lapsed) changes nothing.
    await bed.app.commands.recordDelivery({
      deliveryId: String(request!.headers['webhook-id']),
      attempt: 1,
      executionId: 'whe_01HZY2ZJQ8G7K42W2D7WF6V4GM',
      startedAt: new Date().toISOString(),
      durationMs: 5,
      url: r.url,
      responseStatus: 200,
      transportError: null,
      taskId: null,
      taskTitle: null,
      retryScheduleMs: [60_000],
    });
    expect(executions(bed.app, workerId)).toMatchObject([{ responseStatus: 500 }]);
  });
});

describe('graceful stop', () => {
  it('waits for the attempt in flight and records it before resolving', async () => {
    r = await startReceiver(() => ({ status: 204, delayMs: 300 }));
    const workerId = await workerWithWebhook(bed.app, r.url);
    await completeTask(bed.app, workerId);
    const service = bed.deliver();
    await r.waitForRequests(1);
    expect(service.inFlight()).toBe(1);

    await service.stop();

    expect(service.inFlight()).toBe(0);
    expect(executions(bed.app, workerId)).toMatchObject([{ requestStatus: 'success', responseStatus: 204 }]);
    expect(executions(bed.app, workerId)[0]!.durationMs).toBeGreaterThanOrEqual(290);
    expect(leases(bed)).toEqual([]);
  });

  it('gives up after shutdownTimeoutMs, leaving the attempt to its lease', async () => {
    r = await startReceiver(() => ({ hang: true }));
    const workerId = await workerWithWebhook(bed.app, r.url);
    await completeTask(bed.app, workerId);
    const service = bed.deliver({ timeoutMs: 30_000, shutdownTimeoutMs: 100 });
    await r.waitForRequests(1);
    const before = Date.now();
    await service.stop();
    expect(Date.now() - before).toBeLessThan(2_000);
    expect(executions(bed.app, workerId)).toHaveLength(0);
    expect(leases(bed)).toHaveLength(1);
  });

  it('deletes delivery leases that lapsed long ago (a killed process never releases them), on its first poll', async () => {
    const now = Date.now();
    const insert = bed.app.db.prepare('INSERT INTO leases (name, owner, expires_at) VALUES (?, ?, ?)');
    insert.run('delivery:msg_long_gone', 'dead-process', now - 3_600_000);
    insert.run('delivery:msg_just_lapsed', 'dead-process', now - 1_000);
    insert.run('delivery:msg_live', 'other-process', now + 60_000);
    insert.run('read-models:rebuild', 'dead-process', now - 3_600_000); // not ours to clean
    bed.deliver({ pollIntervalMs: 10 });
    await waitFor(() => !leases(bed).some((lease) => lease.name === 'delivery:msg_long_gone'));
    expect(leases(bed).map((lease) => lease.name).sort()).toEqual(['delivery:msg_just_lapsed', 'delivery:msg_live', 'read-models:rebuild']);
  });
});
