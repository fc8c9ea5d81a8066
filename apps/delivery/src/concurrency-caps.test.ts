import { describe, expect, it } from 'vitest';
import { completeTask, executions, queueSize, untilCommitted, workerWithWebhook, type TestBed, useTestBed } from './test-support/fixture.js';

let bed: TestBed;
const { receiver } = useTestBed((created) => (bed = created));

describe('bounded concurrency', () => {
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
    await untilCommitted(bed.app, () => executions(bed.app, fastWorker).length === 30, 15_000, 'fast deliveries recorded');
    const elapsed = Date.now() - startedAt;

    // Queued behind the slow origin, the fast deliveries would have waited for its 20 s timeouts.
    expect(elapsed).toBeLessThan(timeoutMs / 2);
    expect(slow.requests).toHaveLength(2);
    expect(slow.maxInFlight()).toBeLessThanOrEqual(2);
    expect(fast.maxInFlight()).toBeLessThanOrEqual(2);
    expect(service.inFlight()).toBe(2);
    expect(executions(bed.app, slowWorker)).toHaveLength(0);
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
    await untilCommitted(bed.app, () => executions(bed.app, fastWorker).length === 2, 10_000, 'both fast attempts recorded');
    expect(slow.requests).toHaveLength(1);
  });

  it('works through a backlog of 5,000 due deliveries within both caps, claiming at most the free slots at a time', async () => {
    const shared = { current: 0, max: 0 };
    // Answers after a few ms, so concurrent requests overlap at the receivers and the caps are observable.
    const origins = await Promise.all([1, 2, 3, 4].map(() => receiver(() => ({ delayMs: 3 }), { sharedInFlight: shared })));
    const workers = await Promise.all(origins.map((r) => workerWithWebhook(bed.app, r.url)));
    const perWorker = 1_250;
    await Promise.all(workers.flatMap((w) => Array.from({ length: perWorker }, () => completeTask(bed.app, w, { output: null }))));

    const startedAt = performance.now();
    const service = bed.deliver({ globalConcurrency: 32, perOriginConcurrency: 16 });
    const recorded = () => workers.reduce((sum, w) => sum + bed.app.readModels.executionsPage(w, 1).totalCount, 0);
    await untilCommitted(bed.app, () => recorded() === 4 * perWorker, 45_000, 'the whole backlog recorded');
    const seconds = (performance.now() - startedAt) / 1_000;
    console.info(`backlog: ${4 * perWorker} deliveries in ${seconds.toFixed(2)} s (${Math.round((4 * perWorker) / seconds)}/s, informal)`);

    for (const r of origins) {
      expect(r.requests).toHaveLength(perWorker);
      expect(r.maxInFlight()).toBeLessThanOrEqual(16);
    }
    expect(shared.max).toBeLessThanOrEqual(32);
    expect(shared.max).toBeGreaterThan(16);
    expect(service.stats().largestClaim).toBeLessThanOrEqual(32);
    expect(service.stats()).toMatchObject({ attempted: 4 * perWorker, inFlight: 0 });
    expect(queueSize(bed.app)).toBe(0);
    for (const w of workers) expect(bed.app.readModels.executionsPage(w, 1).totalCount).toBe(perWorker);
  }, 60_000);
});
