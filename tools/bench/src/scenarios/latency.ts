import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { openApplication } from '@handinger-webhooks/commands';
import { createIdGenerator } from '@handinger-webhooks/contracts';
import { pacedPost } from '../ceilings/paced-post.js';
import type { BenchContext } from '../context.js';
import { BOOTSTRAP_ORG, BOOTSTRAP_USER } from '../dataset.js';
import { peerUnavailable, startPeer, type Peer } from '../peers/peer-rep.js';
import { completion, PEER_WORKER_ID } from '../peers/workload.js';
import { poll, waitForIdle, type ChildHandle, startReceiverProcess } from '../proc.js';
import { makeRow, type ScenarioResult } from '../result.js';
import { pick, rotate } from '../runner.js';
import { serverUnavailable, startServer } from '../server.js';
import { quantileOfSorted } from '../stats.js';

const ids = createIdGenerator();
const RATE = 1_000;
const CONNECTIONS = 16;
const PEER_NAMES: Record<Peer, string> = { bullmq: 'BullMQ + Redis', pgboss: 'pg-boss' };

/** Where a side takes completions: its ingestion URL and key, and how to stop it. */
interface Ingestion {
  url: string;
  key: string;
  workerId: string;
  stop(): Promise<void>;
}

/** Our server as users run it, on a fresh SQLite file, with a worker whose webhook points at the receiver. */
async function startProduct(ctx: BenchContext, receiverUrl: string): Promise<Ingestion> {
  const dir = ctx.tempDir('latency-product');
  const dbPath = join(dir, 'latency.db');
  const key = `hwk_bench_service_${randomBytes(24).toString('base64url')}`;
  const app = await openApplication({ db: dbPath });
  let workerId: string;
  try {
    await app.commands.issueApiKey({ role: 'service', organizationId: null, userId: null, name: 'bench task runner', key });
    workerId = (await app.commands.createWorker({ organizationId: BOOTSTRAP_ORG, userId: BOOTSTRAP_USER }, { title: 'bench' })).id;
    await app.commands.setWebhook(workerId, `${receiverUrl}/hook`);
  } finally {
    await app.close();
  }
  const server = await startServer(ctx, { dbPath, name: 'latency-server' });
  await waitForIdle(server.pid, { windowMs: 300, timeoutMs: 30_000 });
  return {
    url: `${server.url}/api/task-completions`,
    key,
    workerId,
    stop: async () => {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function startPeerIngestion(ctx: BenchContext, receiverUrl: string, peer: Peer): Promise<Ingestion> {
  const running = await startPeer(ctx, receiverUrl, { peer, ingestion: 'api', count: 0, concurrency: CONNECTIONS });
  return { url: `${running.url}/task-completions`, key: running.apiKey, workerId: PEER_WORKER_ID, stop: () => running.stop() };
}

/**
 * One repetition: a steady RATE completions per second for `durationMs`
 * (after a warm-up at the same rate), each timed from the ingestion's 202
 * to the receiver seeing its POST (one clock: both processes on this
 * machine, epoch ms with sub-ms precision). A delivery that arrives before
 * its 202 was read counts as 0.
 */
async function latencyRep(receiver: ChildHandle, side: Ingestion, durationMs: number): Promise<{ p50: number; p99: number; max: number }> {
  const run = ids.ulid();
  const send = async (from: number, n: number) => {
    const bodies = Array.from({ length: n }, (_, i) => Buffer.from(JSON.stringify(completion(side.workerId, from + i, run))));
    const sent = await pacedPost({ url: side.url, bodies, headers: { 'content-type': 'application/json', authorization: `Bearer ${side.key}` }, ratePerSecond: RATE, connections: CONNECTIONS });
    if (sent.non2xx) throw new Error(`${sent.non2xx} completions were not accepted`);
    return sent.answeredAt;
  };
  const arrived = (n: number) =>
    poll(async () => (Number((await receiver.ask({ type: 'stats' }, 'stats', 10_000)).requests) >= n ? true : undefined), { timeoutMs: 60_000, intervalMs: 20, what: `${n} deliveries` });
  const warm = Math.round(RATE / 2);
  await receiver.ask({ type: 'reset' }, 'reset-done');
  await send(0, warm);
  await arrived(warm);
  await receiver.ask({ type: 'reset' }, 'reset-done');
  await receiver.ask({ type: 'track' }, 'tracking');
  const count = Math.round((RATE * durationMs) / 1000);
  const answeredAt = await send(warm, count);
  await arrived(count);
  const arrivals = new Map((await receiver.ask({ type: 'arrivals' }, 'arrivals', 30_000)).arrivals as [string, number][]);
  const latencies = Array.from({ length: count }, (_, i) => {
    const at = arrivals.get(completion(side.workerId, warm + i, run).taskId);
    if (at === undefined) throw new Error(`no delivery of completion ${warm + i}`);
    return Math.max(0, at - answeredAt[i]!);
  }).sort((a, b) => a - b);
  return { p50: quantileOfSorted(latencies, 0.5), p99: quantileOfSorted(latencies, 0.99), max: latencies.at(-1)! };
}

/**
 * Issue-12 latency: from the completion's 202 to the receiver seeing the
 * POST, at a steady 1,000 completions/s, ours (SQLite `serve`) beside the
 * BullMQ and pg-boss pipelines with the same HTTP ingestion.
 */
export async function latencyScenario(ctx: BenchContext): Promise<ScenarioResult> {
  const result: ScenarioResult = { id: 'latency', title: 'delivery latency at a steady rate', rows: [], details: {}, notes: [], durationMs: 0 };
  const unavailable = serverUnavailable();
  if (unavailable) return { ...result, skipped: unavailable };
  const started = performance.now();
  const durationMs = ctx.quick ? 1_500 : 5_000;
  const { receiver, receiverUrl } = await startReceiverProcess();
  try {
    const sides: Record<string, () => Promise<Record<string, number>>> = {};
    const measure = (start: () => Promise<Ingestion>) => async () => {
      const side = await start();
      try {
        return await latencyRep(receiver, side, durationMs);
      } finally {
        await side.stop();
      }
    };
    sides.product = measure(() => startProduct(ctx, receiverUrl));
    const peers = (['bullmq', 'pgboss'] as const).filter((peer) => {
      const why = peerUnavailable(peer);
      if (why) result.notes.push(`${PEER_NAMES[peer]} skipped: ${why}`);
      return why === null;
    });
    for (const peer of peers) sides[peer] = measure(() => startPeerIngestion(ctx, receiverUrl, peer));
    const runs = await rotate({ reps: Math.min(ctx.sizes.reps, 3), label: 'latency', log: ctx.log, sides });
    const what = (q: string) => `${q} from the completion's 202 to the receiver seeing the POST, ${RATE.toLocaleString('en-US')} completions/s for ${durationMs / 1000} s`;
    for (const [q, limit] of [['p50', 5], ['p99', 25]] as const) {
      result.rows.push(makeRow({ scenario: result.title, case: `${what(q)} (ours)`, unit: 'ms', higherIsBetter: false, product: pick(runs.product!, q), target: { kind: 'below', value: limit, unit: 'ms', of: 'median' } }));
      for (const peer of peers) {
        result.rows.push(makeRow({ scenario: result.title, case: `${what(q)}, ours vs ${PEER_NAMES[peer]}`, unit: 'ms', higherIsBetter: false, product: pick(runs.product!, q), ceiling: pick(runs[peer]!, q) }));
      }
    }
    result.details.max = Object.fromEntries(Object.entries(runs).map(([side, figures]) => [side, pick(figures, 'max')]));
    result.notes.push(`${RATE} completions/s paced (each request on its own schedule) over ${CONNECTIONS} keep-alive connections; latency = the receiver's arrival time − the time the 202 was read (same machine clock); ours: \`serve\` on SQLite with its defaults; peers with the same HTTP ingestion.`);
  } finally {
    await receiver.stop();
  }
  result.durationMs = performance.now() - started;
  return result;
}
