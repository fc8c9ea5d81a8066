import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { openApplication } from '@handinger-webhooks/commands';
import { ReadModels } from '@handinger-webhooks/projections';
import { openSqliteDatabase } from '@handinger-webhooks/storage-sqlite';
import { readStatusMb } from '@handinger-webhooks/testing';
import type { BenchContext } from '../context.js';
import { BOOTSTRAP_ORG, BOOTSTRAP_USER } from '../dataset.js';
import { sleep, startReceiverProcess, type ChildHandle } from '../proc.js';
import { makeRow, type ScenarioResult } from '../result.js';
import { pick } from '../runner.js';
import { serverUnavailable, startServer } from '../server.js';
import { latencySummary, perSecond } from '../stats.js';
import { completion } from '../peers/workload.js';
import { productRep } from './delivery.js';

/** Completions recorded per concurrent wave while the backlog is built (group commit takes them in a few transactions). */
const SEED_WAVE = 1_000;

/**
 * Records `count` completions into a fresh database with no delivery running
 * (the receiver's side of the outage: nothing goes out), so every one is a
 * due notification in the queue when a server starts. Returns the keys and
 * the worker to read back.
 */
async function seedBacklog(ctx: BenchContext, dbPath: string, receiverUrl: string, count: number) {
  const userKey = `hwk_bench_user_${randomBytes(24).toString('base64url')}`;
  const app = await openApplication({ db: dbPath });
  try {
    await app.commands.issueApiKey({ role: 'user', organizationId: BOOTSTRAP_ORG, userId: BOOTSTRAP_USER, name: 'bench reader', key: userKey });
    const worker = await app.commands.createWorker({ organizationId: BOOTSTRAP_ORG, userId: BOOTSTRAP_USER }, { title: 'bench backlog' });
    await app.commands.setWebhook(worker.id, `${receiverUrl}/hook`);
    const started = performance.now();
    for (let from = 0; from < count; from += SEED_WAVE) {
      const to = Math.min(count, from + SEED_WAVE);
      await Promise.all(
        Array.from({ length: to - from }, (_, k) => {
          const c = completion(worker.id, from + k, 'backlog');
          return app.commands.recordTaskCompletion({ taskId: c.taskId, workerId: worker.id, title: c.title, status: 'completed', output: c.output });
        }),
      );
      if (to % 100_000 === 0) ctx.log(`backlog: ${to.toLocaleString('en-US')}/${count.toLocaleString('en-US')} completions recorded`);
    }
    return { workerId: worker.id, userKey, seedPerSecond: perSecond(count, performance.now() - started) };
  } finally {
    await app.close();
  }
}

interface Sample {
  ms: number;
  recorded: number;
  rssMb: number;
}

const cpuMsSince = (from: NodeJS.CpuUsage): number => {
  const used = process.cpuUsage(from);
  return (used.user + used.system) / 1000;
};

/** The time at which `recorded` first reached `target`, interpolated between two samples. */
function timeAt(samples: readonly Sample[], target: number): number {
  for (let i = 1; i < samples.length; i++) {
    const a = samples[i - 1]!;
    const b = samples[i]!;
    if (b.recorded >= target) return b.recorded === a.recorded ? b.ms : a.ms + ((target - a.recorded) / (b.recorded - a.recorded)) * (b.ms - a.ms);
  }
  return Number.NaN;
}

/**
 * One backlog repetition: `count` due notifications in the queue, then
 * `serve` started (the receiver is up again) and the clock stopped when the
 * last execution is in the read model. Meanwhile: the server's RSS sampled,
 * the execution log's first and last page read every 20 ms from another
 * connection (the page's own cost, as the page scenario measures it) and
 * page 1 fetched over HTTP through the draining server every 100 ms.
 */
async function backlogRep(ctx: BenchContext, receiver: ChildHandle, receiverUrl: string, count: number, concurrency: number) {
  const dir = ctx.tempDir('backlog');
  const dbPath = join(dir, 'backlog.db');
  try {
    const seed = await seedBacklog(ctx, dbPath, receiverUrl, count);
    ctx.log(`backlog: ${count.toLocaleString('en-US')} due notifications recorded (${Math.round(seed.seedPerSecond).toLocaleString('en-US')}/s); starting the server`);
    await receiver.ask({ type: 'reset' }, 'reset-done');
    // The clock starts at the spawn: the server claims as soon as it is up, before it logs "listening".
    const started = performance.now();
    const server = await startServer(ctx, { dbPath, name: 'backlog-server', env: { HANDINGER_DELIVERY_ORIGIN_CONCURRENCY: String(concurrency) } });
    const reader = openSqliteDatabase(dbPath);
    const readModels = new ReadModels(reader.sql);
    const samples: Sample[] = [{ ms: 0, recorded: 0, rssMb: readStatusMb(server.pid, 'VmRSS') }];
    const pageMs: number[] = [];
    const lastPageMs: number[] = [];
    const httpMs: number[] = [];
    /** The CPU the bench process spent on each read (it does little else): wall time above it is waiting for a core or a lock. */
    const pageCpuMs: number[] = [];
    let done = false;
    try {
      const probePages = async () => {
        while (!done) {
          const cpu0 = process.cpuUsage();
          const t0 = performance.now();
          const first = await readModels.executionsPage(seed.workerId, 1);
          const t1 = performance.now();
          pageMs.push(t1 - t0);
          pageCpuMs.push(cpuMsSince(cpu0));
          if (first.pageCount > 1) {
            const cpu1 = process.cpuUsage();
            await readModels.executionsPage(seed.workerId, first.pageCount);
            lastPageMs.push(performance.now() - t1);
            pageCpuMs.push(cpuMsSince(cpu1));
          }
          await sleep(20);
        }
      };
      const probeHttp = async () => {
        while (!done) {
          const t0 = performance.now();
          const response = await request(`${server.url}/api/workers/${seed.workerId}/webhook/executions?page=1`, { headers: { authorization: `Bearer ${seed.userKey}` } });
          await response.body.text();
          if (response.statusCode !== 200) throw new Error(`GET executions answered ${response.statusCode} during the drain`);
          httpMs.push(performance.now() - t0);
          await sleep(100);
        }
      };
      const probes = Promise.all([probePages(), probeHttp()]);
      try {
        for (;;) {
          await sleep(250);
          const recorded = (await readModels.executionsPage(seed.workerId, 1)).totalCount;
          samples.push({ ms: performance.now() - started, recorded, rssMb: readStatusMb(server.pid, 'VmRSS') });
          if (recorded >= count) break;
          const stalledFor = samples.length > 40 && samples[samples.length - 40]!.recorded === recorded;
          if (stalledFor) throw new Error(`the drain stalled at ${recorded}/${count} executions for 10 s (see ${server.logFile})`);
        }
      } finally {
        done = true;
        await probes;
      }
      const ms = samples[samples.length - 1]!.ms;
      const failed = (await reader.sql.get<{ n: number }>(`SELECT COUNT(*) AS n FROM webhook_executions WHERE worker_id = ? AND request_status <> 'success'`, [seed.workerId]))!.n;
      if (failed > 0) throw new Error(`${failed} deliveries failed during the drain (see ${server.logFile})`);
      const stats = await receiver.ask({ type: 'stats' }, 'stats', 10_000);
      if (Number(stats.distinctWebhookIds) < count) throw new Error(`the receiver saw ${String(stats.distinctWebhookIds)} distinct notifications of ${count}`);
      // Per tenth of the backlog (the first one includes the process's start): the last tenth is drained from a queue as deep as the first was not.
      const tenth = (k: number) => samples.filter((s) => s.recorded >= (k * count) / 10 && s.recorded <= ((k + 1) * count) / 10);
      const tenthsPerSecond = Array.from({ length: 10 }, (_, k) => perSecond(count / 10, timeAt(samples, ((k + 1) * count) / 10) - timeAt(samples, (k * count) / 10)));
      return {
        perSecond: perSecond(count, ms),
        slowestTenthPerSecond: Math.min(...tenthsPerSecond.slice(1).filter(Number.isFinite)),
        seedPerSecond: seed.seedPerSecond,
        peakRssMb: server.peakRssMb(),
        /** The highest RSS sampled in each tenth of the drain (MB), to show whether it is flat. */
        rssByTenthMb: Array.from({ length: 10 }, (_, k) => Math.max(...tenth(k).map((s) => s.rssMb))),
        pageMaxMs: Math.max(...pageMs),
        pageP99Ms: latencySummary(pageMs).p99,
        lastPageMaxMs: lastPageMs.length ? Math.max(...lastPageMs) : Number.NaN,
        lastPageP99Ms: lastPageMs.length ? latencySummary(lastPageMs).p99 : Number.NaN,
        pageReads: pageMs.length + lastPageMs.length,
        pageCpuP99Ms: latencySummary(pageCpuMs).p99,
        pageCpuMaxMs: Math.max(...pageCpuMs),
        httpP50Ms: latencySummary(httpMs).p50,
        httpP99Ms: latencySummary(httpMs).p99,
        httpMaxMs: Math.max(...httpMs),
        httpReads: httpMs.length,
      };
    } finally {
      done = true;
      await reader.close();
      await server.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Issue 12's backlog: a receiver down while notifications pile up, then up.
 * 1,000,000 due notifications (--quick: 20,000) drained by one `serve`
 * process, beside the steady from-the-log rate measured in the same run by
 * the delivery scenario's product side (a small backlog on a fresh
 * database, same server configuration).
 */
export async function backlogScenario(ctx: BenchContext): Promise<ScenarioResult[]> {
  const result: ScenarioResult = { id: 'backlog', title: 'backlog of due notifications', rows: [], details: {}, notes: [], durationMs: 0 };
  const unavailable = serverUnavailable();
  if (unavailable) return [{ ...result, skipped: unavailable }];
  const started = performance.now();
  const count = ctx.sizes.backlog;
  const { deliveries: steadyCount, deliveryConcurrency: concurrency } = ctx.sizes;
  const { receiver, receiverUrl } = await startReceiverProcess();
  try {
    // Steady rate before and after the backlog (the machine's speed drifts over minutes): one each.
    const steady = [await productRep(ctx, receiver, receiverUrl, steadyCount, concurrency, 'log')];
    ctx.log(`backlog: steady rate ${Math.round(steady[0]!.drainPerSecond)}/s`);
    const drain = await backlogRep(ctx, receiver, receiverUrl, count, concurrency);
    ctx.log(`backlog: drained at ${Math.round(drain.perSecond)}/s (slowest tenth ${Math.round(drain.slowestTenthPerSecond)}/s), peak RSS ${drain.peakRssMb.toFixed(0)} MB`);
    steady.push(await productRep(ctx, receiver, receiverUrl, steadyCount, concurrency, 'log'));
    const steadyRates = pick(steady, 'drainPerSecond');
    const steadyMean = [(steadyRates[0]! + steadyRates[1]!) / 2];
    const n = count.toLocaleString('en-US');
    const full = !ctx.quick;
    result.rows.push(
      makeRow({
        scenario: result.title,
        case: `${n} due notifications drained by one serve process (receiver back up), vs the steady delivery rate (${steadyCount.toLocaleString('en-US')} completions in the log, delivered by a fresh server: mean of one run before and one after)`,
        unit: 'deliveries/s',
        higherIsBetter: true,
        product: [drain.perSecond],
        ceiling: steadyMean,
        target: { kind: 'ratio-at-least', value: 0.8 },
        targetApplies: full,
      }),
      makeRow({
        scenario: result.title,
        case: `${n} due notifications: the slowest tenth of the drain after the first (which includes the process's start) vs the steady rate`,
        unit: 'deliveries/s',
        higherIsBetter: true,
        product: [drain.slowestTenthPerSecond],
        ceiling: steadyMean,
      }),
      makeRow({
        scenario: result.title,
        case: `${n} due notifications: server peak RSS (VmHWM) while draining`,
        unit: 'MB',
        higherIsBetter: false,
        product: [drain.peakRssMb],
        target: { kind: 'below', value: 250, unit: 'MB', of: 'max' },
        targetApplies: full,
      }),
      ...(
        [
          [`page 1 while draining (${drain.pageReads.toLocaleString('en-US')} reads of pages 1 and last, another connection)`, drain.pageMaxMs],
          ['last page while draining', drain.lastPageMaxMs],
        ] as const
      ).map(([which, maxMs]) =>
        makeRow({
          scenario: result.title,
          case: `${n} due notifications: slowest read of the execution log's ${which}`,
          unit: 'ms',
          higherIsBetter: false,
          product: [maxMs],
          target: { kind: 'below', value: 1, unit: 'ms', of: 'max' },
          targetApplies: full,
        }),
      ),
      makeRow({
        scenario: result.title,
        case: `${n} due notifications: GET …/webhook/executions?page=1 over HTTP through the draining server, p99 (${drain.httpReads} requests, one every 100 ms)`,
        unit: 'ms',
        higherIsBetter: false,
        product: [drain.httpP99Ms],
      }),
    );
    result.details = { backlog: count, steady, drain, concurrency };
    result.notes.push(
      `Backlog: ${n} completions recorded with recordTaskCompletion (group-committed, ${SEED_WAVE} at a time) while no delivery runs, as when a receiver is down and nothing goes out; then \`serve\` starts (the receiver is up) and drains them at the per-origin cap (${concurrency}). The clock runs from the server's spawn to the last execution in the read model (sampled every 250 ms; the highest RSS sampled in each tenth: ${drain.rssByTenthMb.map((mb) => mb.toFixed(0)).join(', ')} MB). Pages: ReadModels.executionsPage(page 1 and the last page) from a second SQLite connection every 20 ms (wall p99 ${drain.pageP99Ms.toFixed(3)} / ${drain.lastPageP99Ms.toFixed(3)} ms; the reading process's CPU per read p99 ${drain.pageCpuP99Ms.toFixed(3)} ms, max ${drain.pageCpuMaxMs.toFixed(3)} ms: wall time above it is waiting for a core); over HTTP through the busy server p50 ${drain.httpP50Ms.toFixed(2)} ms, max ${drain.httpMaxMs.toFixed(2)} ms (this includes waiting for the server's event loop, which is recording deliveries).`,
    );
  } finally {
    await receiver.stop();
  }
  result.durationMs = performance.now() - started;
  return [result];
}
