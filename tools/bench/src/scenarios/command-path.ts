import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { openApplication, type Application, type Commands } from '@handinger-webhooks/commands';
import { createIdGenerator } from '@handinger-webhooks/contracts';
import { openCeilingDatabase, rawRecordDeliveries, rawSetWebhooks } from '../ceilings/raw-sqlite.js';
import type { BenchContext } from '../context.js';
import { makeRow, type ScenarioResult } from '../result.js';
import { interleave, pick } from '../runner.js';
import { latencySummary, perSecond } from '../stats.js';

const ids = createIdGenerator();

type RecordDeliveryInput = Parameters<Commands['recordDelivery']>[0];

const OWNER = { organizationId: 'org_bench', userId: 'user_bench' };
const RECEIVER_URL = 'https://hooks.example.com/handinger/bench';
/** The product default (SPEC §5); it only matters for failed attempts, and these succeed. */
const RETRY_SCHEDULE_MS = [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000];

/** A command workload: prepared outside the clock, then `count` commands timed by `callers` concurrent callers. */
interface Workload {
  name: string;
  /** Builds the product side's state (outside the clock) and returns the timed body. */
  prepareProduct(app: Application, count: number): Promise<(i: number) => Promise<unknown>>;
  /** The raw ceiling for `count` commands on a fresh database; returns elapsed ms. */
  runCeiling(dir: string, count: number): Promise<number>;
}

/** RecordDelivery of the first attempt of deliveries scheduled beforehand (the delivery app's hot write). */
const recordDelivery: Workload = {
  name: 'RecordDelivery',
  async prepareProduct(app, count) {
    const worker = await app.commands.createWorker(OWNER, { title: 'bench' });
    const deliveryIds: string[] = [];
    for (let from = 0; from < count; from += 500) {
      const chunk = Array.from({ length: Math.min(500, count - from) }, (_, k) =>
        app.commands.scheduleDelivery({ workerId: worker.id, taskId: `task_${from + k}`, webhookGeneration: 1 }),
      );
      deliveryIds.push(...(await Promise.all(chunk)));
    }
    return (i) => {
      const now = new Date().toISOString();
      const attempt: RecordDeliveryInput = {
        deliveryId: deliveryIds[i]!,
        attempt: 1,
        executionId: `whe_${ids.ulid()}`,
        startedAt: now,
        durationMs: 12,
        url: RECEIVER_URL,
        responseStatus: 200,
        transportError: null,
        taskId: `task_${i}`,
        taskTitle: null,
        retryScheduleMs: RETRY_SCHEDULE_MS,
      };
      return app.commands.recordDelivery(attempt);
    };
  },
  async runCeiling(dir, count) {
    const db = await openCeilingDatabase(join(dir, 'ceiling.db'));
    try {
      const workerId = `t_org_bench_w_${ids.ulid()}`;
      return rawRecordDeliveries(db, count, (i) => {
        const ulid = ids.ulid();
        return { deliveryId: `msg_${ulid}`, executionId: `whe_${ulid}`, workerId, url: RECEIVER_URL, taskId: `task_${i}` };
      });
    } finally {
      db.close();
    }
  },
};

/** SetWebhook on workers created beforehand: first configuration (fresh secrets, a WebhookConfigured event). */
const setWebhook: Workload = {
  name: 'SetWebhook',
  async prepareProduct(app, count) {
    const workerIds: string[] = [];
    for (let from = 0; from < count; from += 500) {
      const chunk = Array.from({ length: Math.min(500, count - from) }, () => app.commands.createWorker(OWNER, { title: 'bench' }));
      workerIds.push(...(await Promise.all(chunk)).map((w) => w.id));
    }
    return (i) => app.commands.setWebhook(workerIds[i]!, `https://receiver-${i % 10}.example.com/hooks/${i}`);
  },
  async runCeiling(dir, count) {
    const db = await openCeilingDatabase(join(dir, 'ceiling.db'));
    try {
      return rawSetWebhooks(db, count, (i) => ({
        workerId: `t_org_bench_w_${ids.ulid()}`,
        url: `https://receiver-${i % 10}.example.com/hooks/${i}`,
        origin: `https://receiver-${i % 10}.example.com`,
      }));
    } finally {
      db.close();
    }
  },
};

/** Times `count` commands issued by `callers` concurrent callers (each awaits its previous command). */
async function runProduct(ctx: BenchContext, workload: Workload, count: number, callers: number): Promise<{ ms: number; latencies: Float64Array }> {
  const dir = ctx.tempDir(`product-${workload.name}`);
  const app = await openApplication({ dbPath: join(dir, 'product.db') });
  try {
    const command = await workload.prepareProduct(app, count);
    const latencies = new Float64Array(count);
    let next = 0;
    const caller = async () => {
      for (let i = next++; i < count; i = next++) {
        const sent = performance.now();
        await command(i);
        latencies[i] = performance.now() - sent;
      }
    };
    const started = performance.now();
    await Promise.all(Array.from({ length: callers }, caller));
    return { ms: performance.now() - started, latencies };
  } finally {
    app.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function runCeiling(ctx: BenchContext, workload: Workload, count: number): Promise<number> {
  const dir = ctx.tempDir(`ceiling-${workload.name}`);
  try {
    return await workload.runCeiling(dir, count);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Scenarios 1 and 2 of issue 6: the command path through decider + event
 * store + inline projections, one command per transaction (one caller
 * awaiting each command) and with 64 concurrent callers (group commit),
 * against raw better-sqlite3 doing one event insert + one read-model upsert
 * per transaction. Each repetition uses fresh database files for both sides.
 */
export async function commandPathScenario(ctx: BenchContext): Promise<ScenarioResult[]> {
  const { reps, sequentialCommands, concurrentCommands, concurrentCallers } = ctx.sizes;
  const sequential: ScenarioResult = { id: 'command-path', title: 'command path', rows: [], details: {}, notes: [], durationMs: 0 };
  const concurrent: ScenarioResult = {
    id: 'command-path-concurrent',
    title: 'command path under concurrency',
    rows: [],
    details: {},
    notes: [],
    durationMs: 0,
  };
  for (const workload of [recordDelivery, setWebhook]) {
    // Warm the JIT of both sides once, unrecorded.
    await runProduct(ctx, workload, 300, 1);
    await runProduct(ctx, workload, 300, concurrentCallers);
    await runCeiling(ctx, workload, 300);

    let started = performance.now();
    const seq = await interleave({
      reps,
      label: `${workload.name} sequential`,
      log: ctx.log,
      ceiling: async () => ({ perSecond: perSecond(sequentialCommands, await runCeiling(ctx, workload, sequentialCommands)) }),
      product: async () => {
        const { ms, latencies } = await runProduct(ctx, workload, sequentialCommands, 1);
        return { perSecond: perSecond(sequentialCommands, ms), p50ms: latencySummary(latencies).p50 };
      },
    });
    sequential.durationMs += performance.now() - started;
    sequential.rows.push(
      makeRow({
        scenario: sequential.title,
        case: `${workload.name}, 1 caller, 1 command per transaction`,
        unit: 'commands/s',
        higherIsBetter: true,
        product: pick(seq.product, 'perSecond'),
        ceiling: pick(seq.ceiling, 'perSecond'),
        target: { kind: 'ratio-at-least', value: 0.8 },
      }),
    );
    sequential.details[workload.name] = { commandsPerRep: sequentialCommands, productLatencyP50ms: pick(seq.product, 'p50ms') };

    started = performance.now();
    const conc = await interleave({
      reps,
      label: `${workload.name} ${concurrentCallers} callers`,
      log: ctx.log,
      ceiling: async () => ({ perSecond: perSecond(concurrentCommands, await runCeiling(ctx, workload, concurrentCommands)) }),
      product: async () => {
        const { ms, latencies } = await runProduct(ctx, workload, concurrentCommands, concurrentCallers);
        const l = latencySummary(latencies);
        return { perSecond: perSecond(concurrentCommands, ms), p50ms: l.p50, p99ms: l.p99 };
      },
    });
    concurrent.durationMs += performance.now() - started;
    concurrent.rows.push(
      makeRow({
        scenario: concurrent.title,
        case: `${workload.name}, ${concurrentCallers} callers (group commit) vs raw 1 event per transaction`,
        unit: 'commands/s',
        higherIsBetter: true,
        product: pick(conc.product, 'perSecond'),
        ceiling: pick(conc.ceiling, 'perSecond'),
        target: { kind: 'ratio-at-least', value: 2 },
      }),
    );
    concurrent.details[workload.name] = {
      commandsPerRep: concurrentCommands,
      callers: concurrentCallers,
      productAckLatencyP50ms: pick(conc.product, 'p50ms'),
      productAckLatencyP99ms: pick(conc.product, 'p99ms'),
    };
  }
  sequential.notes.push(
    'Product: openApplication() commands, each awaited before the next (GroupCommit then holds one command per transaction). Ceiling: raw prepared BEGIN IMMEDIATE / INSERT event / INSERT OR REPLACE read-model row / COMMIT on the same schema and pragmas. Fresh database files per repetition and side.',
  );
  concurrent.notes.push('Each caller awaits its own command before issuing the next; every caller is acknowledged only after the shared COMMIT.');
  return [sequential, concurrent];
}
