/**
 * Smoke run of the peer pipelines: proves each one runs end to end and
 * prints its figures. Built with the bench (dist/peers/peer-rep.smoke.js):
 *
 *   node tools/bench/dist/peers/peer-rep.smoke.js [--count 2000] [--reps 1]
 *        [--only bullmq,pgboss] [--ingestion api,log] [--durability off|fsync]
 *        [--pgboss workers=4,batchSize=16,poolSize=10,pollingIntervalSeconds=0.5]
 *        [--redis-tcp] [--no-protocol]
 *
 * First a protocol check per peer (idempotent ingestion, `stats`, `reset`),
 * then `peerRep` for every peer × ingestion. Exit status 1 on any failure.
 * A peer whose backing store is not installed is reported "skipped: …".
 */
import { readFileSync } from 'node:fs';
import { createIdGenerator } from '@handinger-webhooks/contracts';
import { createContext, FULL } from '../context.js';
import { childScript, sleep, spawnProcess, type ChildHandle } from '../proc.js';
import { rawPostAll } from '../ceilings/raw-undici.js';
import { describePeer, ingestCompletions, peerRep, peerUnavailable, startPeer, waitCompleted, type Peer, type PeerDurability, type PeerRepResult, type PgBossTuning } from './peer-rep.js';
import { completion, PEER_WORKER_ID } from './workload.js';

const args = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const count = Number(flag('count') ?? 2_000);
const reps = Number(flag('reps') ?? 1);
const peers = (flag('only') ?? 'bullmq,pgboss').split(',') as Peer[];
const ingestions = (flag('ingestion') ?? 'api,log').split(',') as ('api' | 'log')[];
const durability = (flag('durability') ?? 'off') as PeerDurability;
const pgboss: Partial<PgBossTuning> = Object.fromEntries(
  (flag('pgboss') ?? '')
    .split(',')
    .filter(Boolean)
    .map((kv) => {
      const [k, v] = kv.split('=');
      return [k!, Number(v)];
    }),
);
const redisUnixSocket = !args.includes('--redis-tcp');
const concurrency = 16;
const ctx = createContext({ quick: false, sizes: FULL });
const ids = createIdGenerator();
let failed = false;

/** Busy and total jiffies of all CPUs (/proc/stat). */
function cpuJiffies(): { busy: number; total: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  return { busy: total - idle, total };
}

/**
 * The machine is shared (2 cores): before each repetition, wait (at most
 * 3 min) until the whole machine was at most 10% busy over a second, so a
 * test suite running beside it does not end up in the figures.
 */
async function waitForQuietMachine(): Promise<number> {
  const deadline = Date.now() + 180_000;
  let share = 1;
  while (Date.now() < deadline) {
    const a = cpuJiffies();
    await sleep(1_000);
    const b = cpuJiffies();
    share = (b.busy - a.busy) / Math.max(1, b.total - a.total);
    if (share <= 0.1) return share;
  }
  console.log(`warning: the machine stayed ${(share * 100).toFixed(0)}% busy; measuring anyway`);
  return share;
}

/** Share of the machine's CPU that was busy between two readings. */
const busyShare = (a: { busy: number; total: number }, b: { busy: number; total: number }) => (b.busy - a.busy) / Math.max(1, b.total - a.total);

async function receiverRequests(receiver: ChildHandle): Promise<number> {
  return Number((await receiver.ask({ type: 'stats' }, 'stats', 10_000)).requests);
}

/** Ingestion is idempotent per taskId, `stats` counts completed jobs, `reset` empties the queue. */
async function protocolCheck(peer: Peer, receiver: ChildHandle, receiverUrl: string): Promise<void> {
  const running = await startPeer(ctx, receiverUrl, { peer, ingestion: 'api', count: 0, concurrency, durability, pgboss, redisUnixSocket });
  try {
    await receiver.ask({ type: 'reset' }, 'reset-done');
    const run = ids.ulid();
    const body = Buffer.from(JSON.stringify(completion(PEER_WORKER_ID, 0, run)));
    const headers = () => ({ 'content-type': 'application/json', authorization: `Bearer ${running.apiKey}` });
    const posted = await rawPostAll({ url: `${running.url}/task-completions`, bodies: [body, body], headers, concurrency: 1 });
    if (posted.non2xx) throw new Error('a completion was refused');
    await waitCompleted(running, 1);
    const wrongKey = await rawPostAll({ url: `${running.url}/task-completions`, bodies: [body], headers: () => ({ authorization: 'Bearer nope' }), concurrency: 1 });
    if (wrongKey.non2xx !== 1) throw new Error('a wrong API key was accepted');
    await ingestCompletions(running, 'log', 1, 49, run, concurrency);
    await waitCompleted(running, 50);
    const delivered = await receiverRequests(receiver);
    if (delivered !== 50) throw new Error(`the receiver saw ${delivered} requests for 50 distinct tasks (one sent twice)`);
    await running.pipeline.ask({ type: 'reset' }, 'reset-done');
    const afterReset = await running.stats();
    if (afterReset.recorded !== 0) throw new Error(`${afterReset.recorded} completed jobs left after reset`);
    await ingestCompletions(running, 'log', 100, 10, run, concurrency);
    await waitCompleted(running, 10);
    console.log(`${peer}: protocol ok (duplicate taskId delivered once, wrong key refused, stats, reset)`);
  } finally {
    await running.stop();
  }
}

const receiver = spawnProcess({ args: [childScript('receiver')], ipc: true });
const results: { peer: Peer; ingestion: string; rep: number; result: PeerRepResult; idleBefore: number; machineBusy: number }[] = [];
try {
  const receiverUrl = `http://127.0.0.1:${Number((await receiver.message('ready', 30_000)).port)}`;
  for (const peer of peers) {
    const unavailable = peerUnavailable(peer);
    if (unavailable) {
      console.log(`${peer}: skipped: ${unavailable}`);
      continue;
    }
    console.log(describePeer(peer, durability, concurrency, pgboss, redisUnixSocket));
    try {
      if (!args.includes('--no-protocol')) await protocolCheck(peer, receiver, receiverUrl);
      for (let rep = 0; rep < reps; rep++) {
        for (const ingestion of ingestions) {
          const idleBefore = await waitForQuietMachine();
          const j0 = cpuJiffies();
          const result = await peerRep(ctx, receiver, receiverUrl, { peer, ingestion, count, concurrency, durability, pgboss, redisUnixSocket });
          const machineBusy = busyShare(j0, cpuJiffies());
          results.push({ peer, ingestion, rep, result, idleBefore, machineBusy });
          console.log(
            `${peer} ${ingestion} rep ${rep + 1}: ${result.perSecond.toFixed(0)} deliveries/s, ${result.cpuMsPerDelivery.toFixed(3)} CPU ms/delivery ` +
              `(store ${result.storeCpuMsPerDelivery.toFixed(3)}), ingest ${result.ingestPerSecond.toFixed(0)}/s, receiver ${result.receiverRequests} requests, ` +
              `pipeline peak RSS ${result.peakRssMb.toFixed(0)} MB, store peak RSS ${result.storePeakRssMb.toFixed(0)} MB ` +
              `(machine ${(idleBefore * 100).toFixed(0)}% busy before, ${(machineBusy * 100).toFixed(0)}% during the repetition)`,
          );
        }
      }
    } catch (error) {
      failed = true;
      console.error(`${peer}: FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    }
  }
  console.log(JSON.stringify({ count, concurrency, durability, pgboss, redisUnixSocket, results }, null, 2));
} finally {
  await receiver.stop();
  await Promise.resolve(ctx.cleanup());
}
process.exit(failed ? 1 : 0);
