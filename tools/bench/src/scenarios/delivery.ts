import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { openApplication } from '@handinger-webhooks/commands';
import { createIdGenerator } from '@handinger-webhooks/contracts';
import { ReadModels } from '@handinger-webhooks/projections';
import { openSqliteDatabase } from '@handinger-webhooks/storage-sqlite';
import { rawPostAll } from '../ceilings/raw-undici.js';
import type { BenchContext } from '../context.js';
import { BOOTSTRAP_ORG, BOOTSTRAP_USER } from '../dataset.js';
import { cpuTimeMs, poll, waitForIdle, type ChildHandle, startReceiverProcess } from '../proc.js';
import { makeRow, type ScenarioResult } from '../result.js';
import { describePeer, peerRep, peerUnavailable, type Peer } from '../peers/peer-rep.js';
import { completion } from '../peers/workload.js';
import { pick, rotate } from '../runner.js';
import { serverUnavailable, startServer } from '../server.js';
import { perSecond } from '../stats.js';

const ids = createIdGenerator();

/** ms → µs, per sample (CPU per delivery is reported in µs beside other sides' µs). */
export const microseconds = (ms: readonly number[]): number[] => ms.map((v) => v * 1000);

/**
 * The task runner's side of a scenario: completions of `workerId` POSTed to
 * `apiUrl` with a service key at `concurrency`, and a wait until the read
 * model holds `total` executions (polled every `intervalMs`, allowing
 * `msPerExecution` each, at least a minute).
 */
export function completionTraffic(options: {
  apiUrl: string;
  serviceKey: string;
  workerId: string;
  readModels: ReadModels;
  concurrency: number;
  intervalMs: number;
  msPerExecution: number;
}) {
  const run = ids.ulid();
  const { apiUrl, serviceKey, workerId, readModels, concurrency } = options;
  const recorded = async () => (await readModels.executionsPage(workerId, 1)).totalCount;
  return {
    ingest: (from: number, n: number) =>
      rawPostAll({
        url: `${apiUrl}/api/task-completions`,
        bodies: Array.from({ length: n }, (_, i) => Buffer.from(JSON.stringify(completion(workerId, from + i, run)))),
        headers: () => ({ 'content-type': 'application/json', authorization: `Bearer ${serviceKey}` }),
        concurrency,
      }),
    waitRecorded: (total: number) =>
      poll(async () => ((await recorded()) >= total ? true : undefined), {
        timeoutMs: Math.max(60_000, total * options.msPerExecution),
        intervalMs: options.intervalMs,
        what: `${total} executions recorded`,
      }),
    /** The run's id in the completions' task ids (the log side records the same shape). */
    run,
  };
}

async function receiverStats(receiver: ChildHandle): Promise<{ requests: number; distinctWebhookIds: number }> {
  const stats = await receiver.ask({ type: 'stats' }, 'stats', 10_000);
  return { requests: Number(stats.requests), distinctWebhookIds: Number(stats.distinctWebhookIds) };
}

export type Ingestion = 'api' | 'log';

/**
 * One product repetition: a fresh database with a service key, a worker and
 * its webhook pointing at the receiver; the real server (`serve`, child
 * process); a warm-up batch delivered and recorded; then `count` completions
 * and the clock stopped when the last execution is in the read model.
 *
 * - `api`: the completions are POSTed to /api/task-completions (as the task
 *   runner does) at the delivery concurrency: ingestion is on the clock.
 * - `log`: the completions are recorded straight into the log by the bench
 *   process (`recordTaskCompletion`, group-committed, as the server would),
 *   then one more completion POSTed to the API wakes the server's delivery
 *   loop at once (it polls for other processes' work only every 500 ms):
 *   "completions recorded → delivered → executions recorded", ingestion off
 *   the clock.
 */
export async function productRep(ctx: BenchContext, receiver: ChildHandle, receiverUrl: string, count: number, concurrency: number, ingestion: Ingestion, env: Record<string, string> = {}) {
  const dir = ctx.tempDir(`delivery-product-${ingestion}`);
  const dbPath = join(dir, 'delivery.db');
  const serviceKey = `hwk_bench_service_${randomBytes(24).toString('base64url')}`;
  const app = await openApplication({ db: dbPath });
  let workerId: string;
  try {
    await app.commands.issueApiKey({ role: 'service', organizationId: null, userId: null, name: 'bench task runner', key: serviceKey });
    const worker = await app.commands.createWorker({ organizationId: BOOTSTRAP_ORG, userId: BOOTSTRAP_USER }, { title: 'bench' });
    workerId = worker.id;
    await app.commands.setWebhook(workerId, `${receiverUrl}/hook`);
  } catch (error) {
    await app.close();
    throw error;
  }
  if (ingestion === 'api') await app.close();

  const server = await startServer(ctx, { dbPath, name: `delivery-server-${ingestion}`, env: { HANDINGER_DELIVERY_ORIGIN_CONCURRENCY: String(concurrency), ...env } });
  const reader = openSqliteDatabase(dbPath);
  try {
    await waitForIdle(server.pid, { windowMs: 300, timeoutMs: 30_000 });
    const readModels = new ReadModels(reader.sql);
    const { ingest, waitRecorded, run } = completionTraffic({ apiUrl: server.url, serviceKey, workerId, readModels, concurrency, intervalMs: 5, msPerExecution: 20 });

    // Warm the server's JIT (API, delivery, sender) on the same path, unrecorded.
    const warm = Math.max(100, Math.round(count / 10));
    const warmIngest = await ingest(0, warm);
    if (warmIngest.non2xx) throw new Error(`${warmIngest.non2xx} completions were not accepted (warm-up)`);
    await waitRecorded(warm);
    await receiver.ask({ type: 'reset' }, 'reset-done');

    const serverCpu0 = cpuTimeMs(server.pid);
    const receiverCpu0 = cpuTimeMs(receiver.pid);
    const started = performance.now();
    let ingestMs = Number.NaN;
    let total = warm + count;
    let ingesting: Promise<void>;
    if (ingestion === 'api') {
      ingesting = ingest(warm, count).then((r) => {
        ingestMs = performance.now() - started;
        if (r.non2xx) throw new Error(`${r.non2xx} completions were not accepted`);
      });
    } else {
      await Promise.all(
        Array.from({ length: count }, (_, i) => {
          const c = completion(workerId, warm + i, run);
          return app.commands.recordTaskCompletion({ taskId: c.taskId, workerId, title: c.title, status: 'completed', output: c.output });
        }),
      );
      ingestMs = performance.now() - started;
      total += 1;
      ingesting = ingest(warm + count, 1).then((r) => {
        if (r.non2xx) throw new Error('the wake-up completion was not accepted');
      });
    }
    await waitRecorded(total);
    const ms = performance.now() - started;
    const serverCpuMs = cpuTimeMs(server.pid) - serverCpu0;
    const serverCpuShare = serverCpuMs / ms;
    const receiverCpuShare = (cpuTimeMs(receiver.pid) - receiverCpu0) / ms;
    await ingesting;
    const stats = await receiverStats(receiver);
    const failed = (await reader.sql.get<{ n: number }>(`SELECT COUNT(*) AS n FROM webhook_executions WHERE worker_id = ? AND request_status <> 'success'`, [workerId]))!.n;
    if (failed > 0) throw new Error(`${failed} deliveries failed (see the server log ${server.logFile})`);
    return {
      perSecond: perSecond(total - warm, ms),
      ingestPerSecond: perSecond(count, ingestMs),
      // From the log: the delivery rate once the completions are in (the recording, by the bench, off this clock).
      drainPerSecond: ingestion === 'log' ? perSecond(total - warm, ms - ingestMs) : Number.NaN,
      serverPeakRssMb: server.peakRssMb(),
      receiverRequests: stats.requests,
      distinctWebhookIds: stats.distinctWebhookIds,
      serverCpuShare,
      receiverCpuShare,
      cpuMsPerDelivery: serverCpuMs / (total - warm),
    };
  } finally {
    if (ingestion === 'log') await app.close();
    await reader.close();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The same bodies (payload shape and size of the product's) POSTed by a raw undici Pool to the same receiver. */
async function ceilingRep(receiver: ChildHandle, receiverUrl: string, count: number, concurrency: number, minMs: number) {
  const now = new Date().toISOString();
  const bodies = Array.from({ length: count }, (_, i) => {
    const c = completion(`t_${BOOTSTRAP_ORG}_w_${ids.ulid()}`, i, 'ceiling');
    return Buffer.from(
      JSON.stringify({
        type: 'task.completed',
        timestamp: now,
        data: { workerId: c.workerId, taskId: c.taskId, taskTitle: c.title, status: c.status, completedAt: now, output: c.output },
      }),
    );
  });
  const token = randomBytes(32).toString('base64url');
  const signature = `v1,${randomBytes(32).toString('base64')}`;
  const deliveryIds = Array.from({ length: count }, () => `msg_${ids.ulid()}`);
  await receiver.ask({ type: 'reset' }, 'reset-done');
  // The raw side is fast: repeat the same bodies until at least `minMs` have passed, so one repetition is not a few hundred ms of noise.
  let ms = 0;
  let sent = 0;
  const receiverCpu0 = cpuTimeMs(receiver.pid);
  const clientCpu0 = process.cpuUsage();
  for (let pass = 0; pass < 50 && (pass === 0 || ms < minMs); pass++) {
    const result = await rawPostAll({
      url: `${receiverUrl}/hook`,
      bodies,
      headers: (i) => ({
        'content-type': 'application/json',
        'user-agent': 'Handinger-Webhooks/0.1.0',
        'x-handinger-token': token,
        'webhook-id': deliveryIds[i]!,
        'webhook-timestamp': String(Math.floor(Date.now() / 1000)),
        'webhook-signature': signature,
      }),
      concurrency,
    });
    if (result.non2xx) throw new Error(`the receiver answered ${result.non2xx} non-2xx to the raw ceiling`);
    ms += result.ms;
    sent += count;
  }
  const clientCpu = process.cpuUsage(clientCpu0);
  const receiverCpuShare = (cpuTimeMs(receiver.pid) - receiverCpu0) / ms;
  const clientCpuShare = (clientCpu.user + clientCpu.system) / 1000 / ms;
  const stats = await receiverStats(receiver);
  if (stats.requests !== sent) throw new Error(`the receiver saw ${stats.requests} requests, the raw ceiling sent ${sent}`);
  return { perSecond: perSecond(sent, ms), receiverRequests: stats.requests, receiverCpuShare, clientCpuShare };
}

const PEER_NAMES: Record<Peer, string> = { bullmq: 'BullMQ + Redis', pgboss: 'pg-boss' };

/**
 * Scenarios 3 and 7: end-to-end delivery through the real server against a
 * raw undici Pool to the same receiver (a separate process) at the same
 * concurrency (the product's per-origin cap), and against the pipelines
 * people would build instead (BullMQ + Redis, pg-boss on PostgreSQL: see
 * peers/), every side in each repetition, the order rotated; plus CPU per
 * delivery of every side and the server's peak RSS.
 */
export async function deliveryScenario(ctx: BenchContext): Promise<ScenarioResult[]> {
  const delivery: ScenarioResult = { id: 'delivery', title: 'end-to-end delivery', rows: [], details: {}, notes: [], durationMs: 0 };
  const memory: ScenarioResult = { id: 'memory', title: 'memory', rows: [], details: {}, notes: [], durationMs: 0 };
  const unavailable = serverUnavailable();
  if (unavailable) return [{ ...delivery, skipped: unavailable }, { ...memory, skipped: unavailable }];
  const started = performance.now();
  const { deliveries: count, deliveryConcurrency: concurrency } = ctx.sizes;
  const { receiver, receiverUrl } = await startReceiverProcess();
  try {
    await ceilingRep(receiver, receiverUrl, Math.min(count, 500), concurrency, ctx.quick ? 300 : 1_500); // warm the receiver's and the client's JIT, unrecorded
    const peaks: number[] = [];
    const peers = (['bullmq', 'pgboss'] as const).filter((peer) => {
      const why = peerUnavailable(peer);
      if (why) delivery.notes.push(`${PEER_NAMES[peer]} skipped: ${why}`);
      return why === null;
    });
    for (const ingestion of ['log', 'api'] as const) {
      const sides: Record<string, () => Promise<Record<string, number>>> = {
        ceiling: () => ceilingRep(receiver, receiverUrl, count, concurrency, ctx.quick ? 300 : 1_000),
        product: () => productRep(ctx, receiver, receiverUrl, count, concurrency, ingestion),
      };
      for (const peer of peers) sides[peer] = async () => ({ ...(await peerRep(ctx, receiver, receiverUrl, { peer, ingestion, count, concurrency })) });
      const runs = await rotate({ reps: ctx.sizes.reps, label: `delivery (${ingestion})`, log: ctx.log, sides });
      const product = runs.product!;
      const what =
        ingestion === 'log'
          ? `${count.toLocaleString('en-US')} completions recorded in the log → delivered to a receiver process → executions recorded; ${concurrency} in flight`
          : `${count.toLocaleString('en-US')} completions POSTed to the API → delivered → executions recorded (ingestion on the clock); ${concurrency} in flight`;
      delivery.rows.push(
        makeRow({
          scenario: delivery.title,
          case: `${what}, vs raw undici`,
          unit: 'deliveries/s',
          higherIsBetter: true,
          product: pick(product, 'perSecond'),
          ceiling: pick(runs.ceiling!, 'perSecond'),
          target: { kind: 'ratio-at-least', value: ingestion === 'log' ? 0.4 : 0.7 },
        }),
      );
      for (const peer of ['bullmq', 'pgboss'] as const) {
        const peerRuns = runs[peer];
        const versus = `${what}, vs ${PEER_NAMES[peer]} (${ingestion === 'log' ? 'in-process enqueue' : 'the same HTTP ingestion'})`;
        if (peerRuns === undefined) {
          delivery.rows.push(makeRow({ scenario: delivery.title, case: versus, unit: 'deliveries/s', higherIsBetter: true, product: pick(product, 'perSecond'), note: `skipped: ${peerUnavailable(peer)}` }));
          continue;
        }
        // SPEC targets: 3× BullMQ both ways, 3× pg-boss through the API; CPU per delivery lowest.
        const throughputTarget = peer === 'bullmq' || ingestion === 'api' ? { target: { kind: 'ratio-at-least' as const, value: 3 } } : {};
        delivery.rows.push(makeRow({ scenario: delivery.title, case: versus, unit: 'deliveries/s', higherIsBetter: true, product: pick(product, 'perSecond'), ceiling: pick(peerRuns, 'perSecond'), ...throughputTarget }));
        delivery.rows.push(
          makeRow({
            scenario: delivery.title,
            case: `CPU per delivery (all processes of each side), ${ingestion === 'log' ? 'from the log' : 'through the API'}, vs ${PEER_NAMES[peer]}`,
            unit: 'CPU ms/delivery',
            higherIsBetter: false,
            product: pick(product, 'cpuMsPerDelivery'),
            ceiling: pick(peerRuns, 'cpuMsPerDelivery'),
            target: { kind: 'ratio-at-most', value: 1 },
          }),
        );
      }
      delivery.details[ingestion] = {
        ingestPerSecond: pick(product, 'ingestPerSecond'),
        receiverRequestsProduct: pick(product, 'receiverRequests'),
        distinctWebhookIdsProduct: pick(product, 'distinctWebhookIds'),
        receiverRequestsCeiling: pick(runs.ceiling!, 'receiverRequests'),
        cpuShareDuringTheClock: {
          productServer: pick(product, 'serverCpuShare'),
          productReceiver: pick(product, 'receiverCpuShare'),
          ceilingClient: pick(runs.ceiling!, 'clientCpuShare'),
          ceilingReceiver: pick(runs.ceiling!, 'receiverCpuShare'),
        },
        peers: Object.fromEntries(peers.map((peer) => [peer, { perSecond: pick(runs[peer]!, 'perSecond'), cpuMsPerDelivery: pick(runs[peer]!, 'cpuMsPerDelivery'), peakRssMb: pick(runs[peer]!, 'peakRssMb') }])),
      };
      peaks.push(...pick(product, 'serverPeakRssMb'));
    }
    for (const peer of peers) delivery.notes.push(`${PEER_NAMES[peer]}: ${describePeer(peer)}`);
    delivery.details.deliveriesPerRep = count;
    delivery.details.concurrency = concurrency;
    delivery.notes.push(
      `Product: \`handinger-webhooks serve\` (fresh database per repetition, per-origin cap ${concurrency}, the default), a warm-up batch delivered first on the same server; clock stopped when the last execution is visible in the read model (polled every 5 ms). "recorded in the log": the bench records the completions with recordTaskCompletion into the same file, then one completion POSTed to the API wakes the delivery loop (counted). "POSTed to the API": completions sent to /api/task-completions with a service key, ${concurrency} in flight. Ceiling: undici Pool (${concurrency} connections) POSTing bodies of the same shape and headers to the same receiver process (the same bodies sent again until ≥ ${ctx.quick ? 300 : 1000} ms have passed). Every delivery checked successful.`,
    );
    memory.rows.push(
      makeRow({
        scenario: memory.title,
        case: 'server peak RSS (VmHWM) during the delivery scenario',
        unit: 'MB',
        higherIsBetter: false,
        product: peaks,
        target: { kind: 'below', value: 250, unit: 'MB', of: 'max' },
        targetApplies: !ctx.quick,
      }),
    );
  } finally {
    await receiver.stop();
  }
  delivery.durationMs = performance.now() - started;
  return [delivery, memory];
}
