import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openApplication } from '@handinger-webhooks/commands';
import { createIdGenerator } from '@handinger-webhooks/contracts';
import { ReadModels } from '@handinger-webhooks/projections';
import { openPostgresDatabase } from '@handinger-webhooks/storage-postgres';
import { TEST_SECRET_KEY } from '@handinger-webhooks/testing';
import { benchPostgres, postgresUnavailable } from '../bench-postgres.js';
import type { BenchContext } from '../context.js';
import { BOOTSTRAP_ORG, BOOTSTRAP_USER } from '../dataset.js';
import { describePeer, peerRep, peerUnavailable } from '../peers/peer-rep.js';
import { treeCpuMs } from '../peers/process-cpu.js';
import { waitForIdle, type ChildHandle, startReceiverProcess } from '../proc.js';
import { makeRow, type ScenarioResult } from '../result.js';
import { pick, rotate } from '../runner.js';
import { serverUnavailable, startServer, type RunningServer } from '../server.js';
import { median, perSecond } from '../stats.js';
import { completionTraffic } from './delivery.js';

const ids = createIdGenerator();
/** How many `deliver` processes share the database in each case (SPEC §11). */
const DELIVER_PROCESSES = [1, 2, 4] as const;

/**
 * One repetition on PostgreSQL as a cluster runs it: a fresh database on
 * the run's server (durable commits), an API node (`serve --no-delivery`)
 * and `deliverers` delivery processes, completions POSTed to the API at the
 * delivery concurrency, the clock stopped when the last execution is in the
 * read model. CPU: the API node, every deliver process and the whole
 * PostgreSQL cluster, per delivery (the cluster serves only this database
 * during the repetition).
 */
async function clusterRep(ctx: BenchContext, receiver: ChildHandle, receiverUrl: string, count: number, concurrency: number, deliverers: number) {
  const server = await benchPostgres(ctx);
  const url = await server.createDatabase(`bench_delivery_${ids.ulid().toLowerCase()}`);
  const env = { HANDINGER_SECRET_KEY: TEST_SECRET_KEY, HANDINGER_DELIVERY_ORIGIN_CONCURRENCY: String(concurrency) };
  const serviceKey = `hwk_bench_service_${randomBytes(24).toString('base64url')}`;
  const app = await openApplication({ db: url, secretKey: TEST_SECRET_KEY });
  let workerId: string;
  try {
    await app.commands.issueApiKey({ role: 'service', organizationId: null, userId: null, name: 'bench task runner', key: serviceKey });
    workerId = (await app.commands.createWorker({ organizationId: BOOTSTRAP_ORG, userId: BOOTSTRAP_USER }, { title: 'bench' })).id;
    await app.commands.setWebhook(workerId, `${receiverUrl}/hook`);
  } finally {
    await app.close();
  }
  const processes: RunningServer[] = [];
  const reader = await openPostgresDatabase(url);
  try {
    const api = await startServer(ctx, { dbPath: url, name: 'delivery-pg-api', args: ['--no-delivery'], env });
    processes.push(api);
    for (let i = 0; i < deliverers; i++) processes.push(await startServer(ctx, { dbPath: url, name: `delivery-pg-deliver-${i}`, command: 'deliver', env }));
    const { ingest, waitRecorded } = completionTraffic({ apiUrl: api.url, serviceKey, workerId, readModels: new ReadModels(reader.sql), concurrency, intervalMs: 10, msPerExecution: 40 });
    const warm = Math.max(100, Math.round(count / 10));
    if ((await ingest(0, warm)).non2xx) throw new Error('completions were not accepted (warm-up)');
    await waitRecorded(warm);
    for (const p of processes) await waitForIdle(p.pid, { windowMs: 200, timeoutMs: 10_000 });
    await receiver.ask({ type: 'reset' }, 'reset-done');

    const postmaster = Number(readFileSync(join(server.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    // Where the CPU goes: the API node (processes[0]), the deliver processes, PostgreSQL (its postmaster's tree); their sum is the side's.
    const split = () => ({ api: treeCpuMs(processes[0]!.pid), deliver: treeCpuMs(...processes.slice(1).map((p) => p.pid)), postgres: treeCpuMs(postmaster) });
    const split0 = split();
    const started = performance.now();
    const ingested = await ingest(warm, count);
    if (ingested.non2xx) throw new Error(`${ingested.non2xx} completions were not accepted`);
    await waitRecorded(warm + count);
    const ms = performance.now() - started;
    const split1 = split();
    const perDelivery = (side: keyof typeof split1) => (split1[side] - split0[side]) / count;
    const stats = await receiver.ask({ type: 'stats' }, 'stats', 10_000);
    if (Number(stats.distinctWebhookIds) < count) throw new Error(`the receiver saw ${String(stats.distinctWebhookIds)} distinct webhook-ids, expected ${count}`);
    return {
      perSecond: perSecond(count, ms),
      cpuMsPerDelivery: perDelivery('api') + perDelivery('deliver') + perDelivery('postgres'),
      apiCpuMsPerDelivery: perDelivery('api'),
      deliverCpuMsPerDelivery: perDelivery('deliver'),
      postgresCpuMsPerDelivery: perDelivery('postgres'),
      receiverRequests: Number(stats.requests),
    };
  } finally {
    await reader.close();
    for (const p of processes.reverse()) await p.stop();
    await server.dropDatabase(new URL(url).pathname.slice(1));
  }
}

/**
 * SPEC §11 at speed: completions POSTed to an API node → delivered by 1, 2
 * or 4 `deliver` processes sharing one PostgreSQL database (durable commits)
 * → executions recorded, beside pg-boss with the same HTTP ingestion on a
 * PostgreSQL cluster with the same durability, every side in each
 * repetition (order rotated).
 */
export async function postgresDeliveryScenario(ctx: BenchContext): Promise<ScenarioResult> {
  const result: ScenarioResult = { id: 'delivery-postgres', title: 'end-to-end delivery on PostgreSQL', rows: [], details: {}, notes: [], durationMs: 0 };
  const unavailable = serverUnavailable() ?? (await postgresUnavailable(ctx));
  if (unavailable) return { ...result, skipped: unavailable };
  const started = performance.now();
  const { deliveries: count, deliveryConcurrency: concurrency } = ctx.sizes;
  const { receiver, receiverUrl } = await startReceiverProcess();
  try {
    const sides: Record<string, () => Promise<Record<string, number>>> = {};
    for (const n of DELIVER_PROCESSES) sides[`deliver×${n}`] = () => clusterRep(ctx, receiver, receiverUrl, count, concurrency, n);
    const pgbossUnavailable = peerUnavailable('pgboss');
    if (pgbossUnavailable) result.notes.push(`pg-boss skipped: ${pgbossUnavailable}`);
    else sides.pgboss = async () => ({ ...(await peerRep(ctx, receiver, receiverUrl, { peer: 'pgboss', ingestion: 'api', count, concurrency, durability: 'fsync' })) });
    const runs = await rotate({ reps: ctx.sizes.reps, label: 'delivery on PostgreSQL', log: ctx.log, sides });
    for (const n of DELIVER_PROCESSES) {
      const product = runs[`deliver×${n}`]!;
      const what = `${count.toLocaleString('en-US')} completions POSTed to an API node → ${n} deliver process${n > 1 ? 'es' : ''} → executions recorded; ${concurrency} in flight`;
      if (runs.pgboss === undefined) {
        result.rows.push(makeRow({ scenario: result.title, case: what, unit: 'deliveries/s', higherIsBetter: true, product: pick(product, 'perSecond') }));
        continue;
      }
      result.rows.push(
        makeRow({
          scenario: result.title,
          case: `${what}, vs pg-boss (the same HTTP ingestion, durable commits)`,
          unit: 'deliveries/s',
          higherIsBetter: true,
          product: pick(product, 'perSecond'),
          ceiling: pick(runs.pgboss, 'perSecond'),
          ...(n === 2 ? { target: { kind: 'ratio-at-least' as const, value: 2 } } : {}),
        }),
      );
      result.rows.push(
        makeRow({
          scenario: result.title,
          case: `CPU per delivery (API node, deliver processes and PostgreSQL) with ${n} deliver process${n > 1 ? 'es' : ''}, vs pg-boss`,
          unit: 'CPU ms/delivery',
          higherIsBetter: false,
          product: pick(product, 'cpuMsPerDelivery'),
          ceiling: pick(runs.pgboss, 'cpuMsPerDelivery'),
          target: { kind: 'ratio-at-most', value: 1 },
        }),
      );
    }
    result.details.cpuMsPerDeliveryBySide = Object.fromEntries(
      DELIVER_PROCESSES.map((n) => {
        const product = runs[`deliver×${n}`]!;
        return [`deliver×${n}`, { apiNode: median(pick(product, 'apiCpuMsPerDelivery')), deliverProcesses: median(pick(product, 'deliverCpuMsPerDelivery')), postgres: median(pick(product, 'postgresCpuMsPerDelivery')) }];
      }),
    );
    result.details.deliveriesPerRep = count;
    result.details.concurrency = concurrency;
    result.notes.push(
      `Product: one \`serve --no-delivery\` API node and N \`deliver\` processes on a fresh database of the run's PostgreSQL server (fsync, synchronous_commit and full_page_writes on), per-origin cap ${concurrency} for the whole cluster; clock stopped when the last execution is in the read model. On 2 cores, more processes than cores mostly add claim contention: the figures show how far that goes.`,
    );
    if (!pgbossUnavailable) result.notes.push(`pg-boss: ${describePeer('pgboss', 'fsync', concurrency)}`);
  } finally {
    await receiver.stop();
  }
  result.durationMs = performance.now() - started;
  return result;
}
