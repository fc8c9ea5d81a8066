import { describe, expect, it } from 'vitest';
import { TEST_BACKENDS, type Reply } from '@handinger-webhooks/testing';
import {
  completeTask,
  completeTasksFor,
  executions,
  observe,
  queueSize,
  untilCommitted,
  useTestBed,
  waitForExecutions,
  workerWithWebhook,
  type TestBed,
} from './test-support/fixture.js';

/** A handler that holds every request until `release()`, then answers 200 (at once, from then on). */
function held(): { handler: () => Promise<Reply>; release(): void } {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  return { handler: () => gate.then(() => ({ status: 200 })), release };
}

describe.each(TEST_BACKENDS)('bounded concurrency (%s)', (backend) => {
  let bed: TestBed;
  const { receiver } = useTestBed((created) => (bed = created), backend);

  it('a receiver that never answers does not delay deliveries to another origin', async () => {
    const slow = await receiver(() => ({ hang: true }));
    const fast = await receiver();
    const slowWorker = await workerWithWebhook(bed.app, slow.url);
    const fastWorker = await workerWithWebhook(bed.app, fast.url);
    // The slow origin's deliveries come first in due order.
    for (let i = 0; i < 10; i++) await completeTask(bed.app, slowWorker);
    await Promise.all(Array.from({ length: 30 }, () => completeTask(bed.app, fastWorker)));

    const timeoutMs = 20_000;
    const startedAt = Date.now();
    const service = bed.deliver({ globalConcurrency: 6, perOriginConcurrency: 2, timeoutMs, shutdownTimeoutMs: 0 });
    await fast.waitForRequests(30);
    await untilCommitted(bed.app, async () => (await executions(bed.app, fastWorker)).length === 30, 15_000, 'fast deliveries recorded');
    const elapsed = Date.now() - startedAt;

    // Queued behind the slow origin, the fast deliveries would have waited for its 20 s timeouts.
    expect(elapsed).toBeLessThan(timeoutMs / 2);
    expect(slow.requests).toHaveLength(2);
    expect(slow.maxInFlight()).toBeLessThanOrEqual(2);
    expect(fast.maxInFlight()).toBeLessThanOrEqual(2);
    // Two on the wire; up to the cap again claimed ahead, waiting for a slot.
    expect(service.stats().onWire).toBe(2);
    expect(service.inFlight()).toBeLessThanOrEqual(4);
    expect(await executions(bed.app, slowWorker)).toHaveLength(0);
  });

  it('claims new work and due retries for another origin at once while a busy origin has a backlog', async () => {
    const slow = await receiver(() => ({ hang: true }));
    const fast = await receiver();
    fast.script({ status: 500 });
    const slowWorker = await workerWithWebhook(bed.app, slow.url);
    const fastWorker = await workerWithWebhook(bed.app, fast.url);
    for (let i = 0; i < 5; i++) await completeTask(bed.app, slowWorker);
    // A poll far beyond the test: only events (commits, due times) may wake the claimer.
    bed.deliver({ globalConcurrency: 4, perOriginConcurrency: 1, timeoutMs: 20_000, pollIntervalMs: 60_000, shutdownTimeoutMs: 0, retryScheduleMs: [100] });
    await slow.waitForRequests(1);

    const before = Date.now();
    await completeTask(bed.app, fastWorker);
    const [first, retry] = await fast.waitForRequests(2, 10_000);
    expect(first!.receivedAt - before).toBeLessThan(5_000);
    expect(retry!.receivedAt - first!.receivedAt).toBeGreaterThanOrEqual(100);
    expect(retry!.receivedAt - first!.receivedAt).toBeLessThan(5_000);
    await untilCommitted(bed.app, async () => (await executions(bed.app, fastWorker)).length === 2, 10_000, 'both fast attempts recorded');
    expect(slow.requests).toHaveLength(1);
  });

  it('works through a backlog of 5,000 due deliveries within both caps, claiming at most twice the caps ahead', async () => {
    const shared = { current: 0, max: 0 };
    // Answers after a few ms, so concurrent requests overlap at the receivers and the caps are observable.
    const origins = await Promise.all([1, 2, 3, 4].map(() => receiver(() => ({ delayMs: 3 }), { sharedInFlight: shared })));
    const workers = await Promise.all(origins.map((r) => workerWithWebhook(bed.app, r.url)));
    const perWorker = 1_250;
    await completeTasksFor(bed.app, workers, perWorker, { output: null });

    const startedAt = performance.now();
    const service = bed.deliver({ globalConcurrency: 32, perOriginConcurrency: 16 });
    const recorded = async () => (await Promise.all(workers.map((w) => bed.app.readModels.executionsPage(w, 1)))).reduce((sum, page) => sum + page.totalCount, 0);
    await untilCommitted(bed.app, async () => (await recorded()) === 4 * perWorker, 45_000, 'the whole backlog recorded');
    const seconds = (performance.now() - startedAt) / 1_000;
    console.info(`backlog: ${4 * perWorker} deliveries in ${seconds.toFixed(2)} s (${Math.round((4 * perWorker) / seconds)}/s, informal)`);

    for (const r of origins) {
      expect(r.requests).toHaveLength(perWorker);
      expect(r.maxInFlight()).toBeLessThanOrEqual(16);
    }
    expect(shared.max).toBeLessThanOrEqual(32);
    expect(shared.max).toBeGreaterThan(16);
    expect(service.stats().largestClaim).toBeLessThanOrEqual(2 * 32);
    expect(service.stats()).toMatchObject({ attempted: 4 * perWorker, inFlight: 0 });
    expect(await queueSize(bed.app)).toBe(0);
    for (const w of workers) expect((await bed.app.readModels.executionsPage(w, 1)).totalCount).toBe(perWorker);
  }, 60_000);

  describe('across two processes sharing the database', () => {
    // Each "process" is its own Application (own connections, own owner id) with its own delivery service.
    const options = { timeoutMs: 20_000, shutdownTimeoutMs: 0 };

    it('holds the per-origin cap: a second process takes nothing for an origin the first one fills', async () => {
      const gate = held();
      const x = await receiver(gate.handler);
      const worker = await workerWithWebhook(bed.app, x.url);
      for (let i = 0; i < 4; i++) await completeTask(bed.app, worker);
      const caps = { globalConcurrency: 8, perOriginConcurrency: 2 };

      const a = bed.deliver({ ...options, ...caps, version: 'A' });
      await x.waitForRequests(2);
      const second = observe(await bed.openSecondApp());
      const firstClaimOfB = second.nextClaim();
      const b = bed.deliver({ ...options, ...caps, version: 'B' }, {}, second.app);

      // B has 8 free slots of its own and two due attempts to X, but X has its 2 in flight (A's).
      expect((await firstClaimOfB).attempts).toEqual([]);
      expect(x.inFlight()).toBe(2);
      expect(b.stats().attempted).toBe(0);

      gate.release();
      await waitForExecutions(bed.app, worker, 4, 15_000, [second.app]);
      expect(x.requests).toHaveLength(4);
      expect(x.maxInFlight()).toBeLessThanOrEqual(2);
      expect(x.requests.slice(0, 2).map((q) => q.headers['user-agent'])).toEqual(['Handinger-Webhooks/A', 'Handinger-Webhooks/A']);
      expect(a.stats().attempted + b.stats().attempted).toBe(4);
    });

    it('holds the global cap: a second process takes nothing once the first one holds it, even for an origin with room', async () => {
      const gate = held();
      const shared = { current: 0, max: 0 };
      const x = await receiver(gate.handler, { sharedInFlight: shared });
      const y = await receiver(gate.handler, { sharedInFlight: shared });
      const xWorker = await workerWithWebhook(bed.app, x.url);
      const yWorker = await workerWithWebhook(bed.app, y.url);
      for (let i = 0; i < 3; i++) await completeTask(bed.app, xWorker);
      for (let i = 0; i < 3; i++) await completeTask(bed.app, yWorker);
      const caps = { globalConcurrency: 3, perOriginConcurrency: 2 };

      const a = bed.deliver({ ...options, ...caps, version: 'A' });
      // X's deliveries are due first: A fills X (2) and the last global slot with Y.
      await Promise.all([x.waitForRequests(2), y.waitForRequests(1)]);
      const second = observe(await bed.openSecondApp());
      const firstClaimOfB = second.nextClaim();
      const b = bed.deliver({ ...options, ...caps, version: 'B' }, {}, second.app);

      // Y has room for one more, B has 3 free slots of its own: the cluster's 3 are taken.
      expect((await firstClaimOfB).attempts).toEqual([]);
      expect([x.inFlight(), y.inFlight()]).toEqual([2, 1]);
      expect(b.stats().attempted).toBe(0);

      gate.release();
      await waitForExecutions(bed.app, xWorker, 3, 15_000, [second.app]);
      await waitForExecutions(bed.app, yWorker, 3, 15_000, [second.app]);
      expect(shared.max).toBeLessThanOrEqual(3);
      expect(x.maxInFlight()).toBeLessThanOrEqual(2);
      expect(y.maxInFlight()).toBeLessThanOrEqual(2);
      expect(x.requests.length + y.requests.length).toBe(6);
      expect(a.stats().attempted + b.stats().attempted).toBe(6);
    });

    it('work through a backlog together within both caps, each attempt sent once', async () => {
      const shared = { current: 0, max: 0 };
      // Answers after a few ms, so concurrent requests overlap at the receivers and the caps are observable.
      const origins = await Promise.all([1, 2, 3, 4].map(() => receiver(() => ({ delayMs: 5 }), { sharedInFlight: shared })));
      const workers = await Promise.all(origins.map((r) => workerWithWebhook(bed.app, r.url)));
      const perWorker = 100;
      await Promise.all(workers.flatMap((w) => Array.from({ length: perWorker }, () => completeTask(bed.app, w, { output: null }))));
      const second = await bed.openSecondApp();
      // 4 origins x 4 slots > 6: the global cap binds; short polls and small claims make the two claim against each other.
      const caps = { globalConcurrency: 6, perOriginConcurrency: 4, claimBatch: 2, pollIntervalMs: 10 };

      const a = bed.deliver({ ...caps, version: 'A' });
      const b = bed.deliver({ ...caps, version: 'B' }, {}, second);
      const recorded = async () => (await Promise.all(workers.map((w) => bed.app.readModels.executionsPage(w, 1)))).reduce((sum, page) => sum + page.totalCount, 0);
      await untilCommitted([bed.app, second], async () => (await recorded()) === 4 * perWorker, 45_000, 'the whole backlog recorded');

      for (const r of origins) {
        expect(r.requests).toHaveLength(perWorker);
        expect(r.maxInFlight()).toBeLessThanOrEqual(4);
      }
      expect(shared.max).toBeLessThanOrEqual(6);
      expect(a.stats().attempted + b.stats().attempted).toBe(4 * perWorker);
      expect(await queueSize(bed.app)).toBe(0);
      const agents = new Set(origins.flatMap((r) => r.requests.map((q) => q.headers['user-agent'])));
      console.info(`two processes: A sent ${a.stats().attempted}, B sent ${b.stats().attempted} (${[...agents].join(', ')}); most in flight ${shared.max}`);
    }, 60_000);
  });
});
