import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Application } from '@handinger-webhooks/commands';
import { Checkpoints } from '@handinger-webhooks/event-store';
import { SCHEDULER_CHECKPOINT, Scheduler } from './scheduler.js';
import { completeTask, createTestBed, workerWithWebhook, type TestBed } from './test-support/fixture.js';

let bed: TestBed;

beforeEach(async () => {
  bed = await createTestBed();
});

afterEach(async () => {
  await bed.close();
});

const scheduledTasks = (app: Application): string[] =>
  app.store
    .readAll(0, 100_000)
    .filter((e) => e.type === 'DeliveryScheduled')
    .map((e) => (e.data as { taskId: string }).taskId);

function drain(scheduler: Scheduler): number {
  let total = 0;
  for (;;) {
    const { scheduled, more } = scheduler.runBatch();
    total += scheduled;
    if (!more) return total;
  }
}

describe('Scheduler', () => {
  it('schedules every completion exactly once, in batches, across instances sharing the database', async () => {
    const workerId = await workerWithWebhook(bed.app, 'http://127.0.0.1:9/h');
    const tasks = await Promise.all(Array.from({ length: 10 }, () => completeTask(bed.app, workerId)));
    const second = await bed.openSecondApp();
    const a = new Scheduler(bed.app, undefined, 3);
    const b = new Scheduler(second, undefined, 3);

    // Interleaved batches of two "processes": the checkpoint is shared and moves with the work.
    let total = 0;
    for (let i = 0; i < 10; i++) total += a.runBatch().scheduled + b.runBatch().scheduled;
    total += drain(a) + drain(b);

    expect(total).toBe(10);
    expect(scheduledTasks(bed.app).sort()).toEqual([...tasks].sort());
    expect(drain(new Scheduler(bed.app))).toBe(0);
  });

  it('only schedules completions accepted while the current webhook generation was configured', async () => {
    const never = await workerWithWebhook(bed.app, null);
    const noWebhookYet = await completeTask(bed.app, never);
    await bed.app.commands.setWebhook(never, 'http://127.0.0.1:9/a');

    const replaced = await workerWithWebhook(bed.app, 'http://127.0.0.1:9/b');
    const underOldGeneration = await completeTask(bed.app, replaced);
    await bed.app.commands.deleteWebhook(replaced);
    await bed.app.commands.setWebhook(replaced, 'http://127.0.0.1:9/b');

    const moved = await workerWithWebhook(bed.app, 'http://127.0.0.1:9/c');
    const beforeUrlChange = await completeTask(bed.app, moved);
    await bed.app.commands.setWebhook(moved, 'http://127.0.0.1:9/c2');

    const deleted = await workerWithWebhook(bed.app, 'http://127.0.0.1:9/d');
    await completeTask(bed.app, deleted);
    await bed.app.commands.deleteWorker(deleted);

    drain(new Scheduler(bed.app));
    expect(scheduledTasks(bed.app)).toEqual([beforeUrlChange]);
    expect([noWebhookYet, underOldGeneration]).not.toContain(beforeUrlChange);
  });

  it('takes no write lock for a stretch without completions, yet persists its position every so often', async () => {
    const workerId = await workerWithWebhook(bed.app, 'http://127.0.0.1:9/h');
    await completeTask(bed.app, workerId);
    const checkpoints = new Checkpoints(bed.app.db);
    const scheduler = new Scheduler(bed.app, undefined, 1_000, 5);
    drain(scheduler);
    const afterFirst = checkpoints.get(SCHEDULER_CHECKPOINT);
    expect(afterFirst).toBe(bed.app.store.headPosition() - 1); // its own DeliveryScheduled is after the checkpoint

    await bed.app.commands.rotateToken(workerId);
    drain(scheduler);
    expect(checkpoints.get(SCHEDULER_CHECKPOINT)).toBe(afterFirst);

    for (let i = 0; i < 5; i++) await bed.app.commands.rotateToken(workerId);
    drain(scheduler);
    expect(checkpoints.get(SCHEDULER_CHECKPOINT)).toBe(bed.app.store.headPosition());
  });
});
