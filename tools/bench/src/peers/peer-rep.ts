/**
 * One repetition of a peer pipeline, the delivery scenario's "what people
 * would build instead", measured as productRep measures our service
 * (scenarios/delivery.ts): same receiver process, same completion bodies,
 * same notification shape and header sizes, same concurrency.
 *
 * A fresh backing store per repetition (redis-server on a temp dir, or a
 * throwaway PostgreSQL cluster from @handinger-webhooks/testing with one
 * database), the peer's pipeline process (children/peer-*.ts), a warm-up
 * batch delivered and recorded first, the receiver reset, then `count`
 * completions and the clock stopped when the queue backend counts them all
 * completed (`stats`, polled every 5 ms once the pipeline's in-memory tally
 * says every handler finished; see waitCompleted):
 *
 * - `api`: POSTed to the pipeline's `/task-completions` by the bench process
 *   (rawPostAll, `concurrency` in flight): ingestion on the clock;
 * - `log`: enqueued by the pipeline process itself in one call (BullMQ
 *   `addBulk`, pg-boss `insert`): "completions recorded → delivered →
 *   attempts recorded".
 *
 * CPU per delivery: CPU ms, over the clock, of every process on the peer's
 * side (the pipeline process, plus redis-server or every process of the
 * PostgreSQL cluster: the postmaster and all its children, those that exited
 * meanwhile included, see process-cpu.ts) divided by the deliveries. The
 * bench process (the load generator in `api`) and the receiver are not
 * counted, as for the product's server.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findPostgresBinDir, readStatusMb, startPostgres, type PostgresServer } from '@handinger-webhooks/testing';
import { createIdGenerator } from '@handinger-webhooks/contracts';
import { rawPostAll } from '../ceilings/raw-undici.js';
import type { BenchContext } from '../context.js';
import { childScript, freePort, poll, spawnProcess, waitForIdle, type ChildHandle } from '../proc.js';
import { perSecond } from '../stats.js';
import { treeCpuMs } from './process-cpu.js';
import { redisUnavailable, redisVersion, startRedis, type RedisPersistence } from './redis-server.js';
import { completion, PEER_WORKER_ID } from './workload.js';

export type Peer = 'bullmq' | 'pgboss';

/**
 * `off` (the default): Redis `--save '' --appendonly no`; PostgreSQL as
 * startPostgres sets it up (fsync, synchronous_commit, full_page_writes off).
 * `fsync`: Redis `--appendonly yes --appendfsync always`; PostgreSQL fsync,
 * synchronous_commit and full_page_writes on. Every acknowledged write on disk.
 */
export type PeerDurability = 'off' | 'fsync';

export interface PeerRepOptions {
  peer: Peer;
  ingestion: 'api' | 'log';
  count: number;
  concurrency: number;
  durability?: PeerDurability;
  /** pg-boss tuning (defaults: PGBOSS_TUNING). */
  pgboss?: Partial<PgBossTuning>;
  /**
   * BullMQ: reach Redis through a Unix socket (the default, as the PostgreSQL
   * peer does; 10–30% faster than TCP on 127.0.0.1 in the smoke runs), or
   * TCP on 127.0.0.1 (a free port) when false.
   */
  redisUnixSocket?: boolean;
}

export interface PeerRepResult {
  perSecond: number;
  cpuMsPerDelivery: number;
  ingestPerSecond: number;
  receiverRequests: number;
  /** Peak RSS (VmHWM) of the pipeline process. */
  peakRssMb: number;
  /** The backing store's share of cpuMsPerDelivery (redis-server / the PostgreSQL cluster). */
  storeCpuMsPerDelivery: number;
  /** Peak RSS of redis-server; for PostgreSQL the postmaster's (its backends share its memory). */
  storePeakRssMb: number;
}

/**
 * pg-boss 10: `workers` calls of `boss.work` (it has no teamSize any more),
 * each fetching up to `batchSize` jobs, polling every `pollingIntervalSeconds`
 * (0.5 s is its minimum) when nothing notified them; `poolSize` = the `max`
 * connections of its pg pool (its default, 10). Chosen by a sweep on the
 * 2-core bench machine, 2,000 deliveries, 2 repetitions each: 2 × 100 was
 * the best or tied in both forms (in-process ~2,900–3,400/s, API
 * ~800–1,000/s); batches of 1 (the old teamSize 16 shape) reached 400–500/s
 * at 3.5–4.5 CPU ms per delivery; polling without notifyWorker capped the
 * in-process form at `workers × batchSize / 0.5 s`; pool sizes 5/10/20 were
 * within the noise. The API form is bound by `send` (one INSERT
 * transaction per completion) whatever the worker settings.
 */
export interface PgBossTuning {
  workers: number;
  batchSize: number;
  poolSize: number;
  pollingIntervalSeconds: number;
  /** 1: `notifyWorker` after each send/insert and after a full batch (pg-boss's documented way to skip the polling wait); 0: polling only. */
  notify: number;
}
export const PGBOSS_TUNING: PgBossTuning = { workers: 2, batchSize: 100, poolSize: 10, pollingIntervalSeconds: 0.5, notify: 1 };

const PG_DURABLE = { fsync: true, synchronous_commit: true, full_page_writes: true };

/** Why `peer` cannot run on this machine (the scenario reports "skipped: …"), or null. */
export function peerUnavailable(peer: Peer): string | null {
  if (peer === 'bullmq') return redisUnavailable();
  try {
    findPostgresBinDir();
    return null;
  } catch {
    return 'PostgreSQL is not installed (initdb/pg_ctl not found in /usr/lib/postgresql/*/bin, `pg_config --bindir` or PATH; apt-get install postgresql)';
  }
}

/** The installed version of a package (its package.json found above its resolved entry point), or "?". */
export function packageVersion(name: string): string {
  try {
    let dir = dirname(fileURLToPath(import.meta.resolve(name)));
    for (;;) {
      const file = join(dir, 'package.json');
      if (existsSync(file)) {
        const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
        if (pkg.name === name && pkg.version) return pkg.version;
      }
      const up = dirname(dir);
      if (up === dir) return '?';
      dir = up;
    }
  } catch {
    return '?';
  }
}

/** One line per peer for the scenario's notes: versions and settings. */
export function describePeer(peer: Peer, durability: PeerDurability = 'off', concurrency = 16, pgboss: Partial<PgBossTuning> = {}, redisUnixSocket = true): string {
  if (peer === 'bullmq') {
    const flags = durability === 'off' ? "--save '' --appendonly no" : '--appendonly yes --appendfsync always';
    return `BullMQ ${packageVersion('bullmq')} (ioredis ${packageVersion('ioredis')}) on redis-server ${redisVersion().replace(/^Redis server /, '').split(' ')[0]} (${flags}, ${redisUnixSocket ? 'Unix socket' : 'TCP 127.0.0.1'}, fresh per repetition): Worker concurrency ${concurrency}, jobs attempts 8 with exponential backoff, completed jobs kept with their outcome as return value.`;
  }
  const t = { ...PGBOSS_TUNING, ...pgboss };
  const pg = durability === 'off' ? 'fsync/synchronous_commit/full_page_writes off' : 'fsync, synchronous_commit, full_page_writes on';
  return `pg-boss ${packageVersion('pg-boss')} on a throwaway PostgreSQL cluster (${pg}, Unix socket, fresh per repetition): ${t.workers} workers × batchSize ${t.batchSize}, pollingIntervalSeconds ${t.pollingIntervalSeconds}${t.notify ? ' with notifyWorker after each send/insert and after a full batch' : ', polling only'}, pg pool max ${t.poolSize}, retryLimit 7 with backoff.`;
}

export interface BackingStore {
  env: Record<string, string>;
  /** CPU ms of every process of the store so far. */
  cpuMs(): number;
  peakRssMb(): number;
  stop(): Promise<void>;
}

async function startBackingStore(ctx: BenchContext, options: PeerRepOptions, dir: string): Promise<BackingStore> {
  const durability = options.durability ?? 'off';
  if (options.peer === 'bullmq') {
    const persistence: RedisPersistence = durability === 'fsync' ? 'fsync' : 'off';
    const redis = await startRedis({ dir, persistence, unixSocket: options.redisUnixSocket ?? true });
    const env: Record<string, string> =
      'path' in redis.connection ? { PEER_REDIS_PATH: redis.connection.path } : { PEER_REDIS_HOST: redis.connection.host, PEER_REDIS_PORT: String(redis.connection.port) };
    return { env, cpuMs: () => treeCpuMs(redis.pid), peakRssMb: () => redis.handle.peakRssMb(), stop: () => redis.stop() };
  }
  // startPostgres names its socket file by port: a free number keeps parallel runs (and the product's server) apart.
  const server: PostgresServer = await startPostgres({ port: await freePort(), ...(durability === 'fsync' ? { settings: PG_DURABLE } : {}) });
  try {
    const url = await server.createDatabase('peer_pgboss');
    const postmaster = Number(readFileSync(join(server.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    if (!Number.isInteger(postmaster) || postmaster <= 0) throw new Error(`no postmaster pid in ${server.dataDir}/postmaster.pid`);
    ctx.log(`peer pgboss: PostgreSQL cluster ${server.dataDir}, postmaster ${postmaster}`);
    return { env: { PEER_PG_URL: url }, cpuMs: () => treeCpuMs(postmaster), peakRssMb: () => readStatusMb(postmaster, 'VmHWM'), stop: () => server.stop() };
  } catch (error) {
    await server.stop();
    throw error;
  }
}

async function pipelineStats(pipeline: ChildHandle): Promise<{ recorded: number; failed: number }> {
  const stats = await pipeline.ask({ type: 'stats' }, 'stats', 10_000);
  return { recorded: Number(stats.recorded), failed: Number(stats.failed) };
}

const ids = createIdGenerator();

export interface RunningPeer {
  pipeline: ChildHandle;
  /** The pipeline's ingestion server, e.g. http://127.0.0.1:PORT (POST /task-completions). */
  url: string;
  apiKey: string;
  store: BackingStore;
  stats(): Promise<{ recorded: number; failed: number }>;
  stop(): Promise<void>;
}

/** Starts the peer's backing store and pipeline process (ready, listening, idle). */
export async function startPeer(ctx: BenchContext, receiverUrl: string, options: PeerRepOptions): Promise<RunningPeer> {
  const unavailable = peerUnavailable(options.peer);
  if (unavailable) throw new Error(unavailable);
  const dir = ctx.tempDir(`peer-${options.peer}-${options.ingestion}`);
  const apiKey = `hwk_${randomBytes(32).toString('base64url')}`;
  let store: BackingStore | undefined;
  let pipeline: ChildHandle | undefined;
  const stop = async () => {
    if (pipeline) await pipeline.stop();
    if (store) await store.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    store = await startBackingStore(ctx, options, dir);
    const tuning = { ...PGBOSS_TUNING, ...options.pgboss };
    pipeline = spawnProcess({
      args: [childScript(`peer-${options.peer}`)],
      ipc: true,
      env: {
        ...store.env,
        PEER_RECEIVER_URL: `${receiverUrl}/hook`,
        PEER_CONCURRENCY: String(options.concurrency),
        PEER_API_KEY: apiKey,
        PEER_WEBHOOK_TOKEN: randomBytes(32).toString('base64url'),
        PEER_SIGNING_SECRET: `whsec_${randomBytes(32).toString('base64')}`,
        PEER_PGBOSS_WORKERS: String(tuning.workers),
        PEER_PGBOSS_BATCH: String(tuning.batchSize),
        PEER_PGBOSS_POOL: String(tuning.poolSize),
        PEER_PGBOSS_POLL_S: String(tuning.pollingIntervalSeconds),
        PEER_PGBOSS_NOTIFY: String(tuning.notify),
      },
    });
    const url = `http://127.0.0.1:${Number((await pipeline.message('ready', 60_000)).port)}`;
    await waitForIdle(pipeline.pid, { windowMs: 300, timeoutMs: 30_000 });
    const p = pipeline;
    return { pipeline, url, apiKey, store, stats: () => pipelineStats(p), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Sends `count` completions (task ids `task_<run>_<from+i>`) the way `ingestion` says; resolves once all are accepted. */
export async function ingestCompletions(peer: RunningPeer, ingestion: 'api' | 'log', from: number, count: number, run: string, concurrency: number): Promise<void> {
  if (ingestion === 'log') {
    await peer.pipeline.ask({ type: 'enqueue', count, from, run }, 'enqueued', Math.max(60_000, count * 20));
    return;
  }
  const result = await rawPostAll({
    url: `${peer.url}/task-completions`,
    bodies: Array.from({ length: count }, (_, i) => Buffer.from(JSON.stringify(completion(PEER_WORKER_ID, from + i, run)))),
    headers: () => ({ 'content-type': 'application/json', authorization: `Bearer ${peer.apiKey}` }),
    concurrency,
  });
  if (result.non2xx) throw new Error(`${result.non2xx} completions were not accepted by the pipeline`);
}

/**
 * Resolves with the completed count once the queue backend counts `total`
 * completed jobs (`stats`, polled every 5 ms); throws when a job failed for
 * good. The backend is only asked once the pipeline's in-memory tally
 * (`progress`, also polled every 5 ms, an IPC round trip and nothing else)
 * says every handler finished: a count on pg-boss's job table every 5 ms
 * costs PostgreSQL ~0.6 ms of CPU each (a fifth of a core), which would be
 * billed to the peer and take a core share from it.
 */
export async function waitCompleted(peer: RunningPeer, total: number, what = 'jobs'): Promise<number> {
  const timeoutMs = Math.max(60_000, total * 20);
  await poll(
    async () => {
      const progress = await peer.pipeline.ask({ type: 'progress' }, 'progress', 10_000);
      return Number(progress.handled) >= total ? true : undefined;
    },
    { timeoutMs, intervalMs: 5, what: `${total} ${what} handled` },
  );
  return poll(
    async () => {
      const stats = await peer.stats();
      if (stats.failed > 0) throw new Error(`${stats.failed} ${what} failed for good`);
      return stats.recorded >= total ? stats.recorded : undefined;
    },
    { timeoutMs, intervalMs: 5, what: `${total} ${what} completed` },
  );
}

export async function peerRep(ctx: BenchContext, receiver: ChildHandle, receiverUrl: string, options: PeerRepOptions): Promise<PeerRepResult> {
  const { peer, ingestion, count, concurrency } = options;
  const running = await startPeer(ctx, receiverUrl, options);
  try {
    const { pipeline, store } = running;
    const run = ids.ulid();
    // Warm the pipeline's JIT (ingestion, queue client, sender) on the same path, unrecorded.
    const warm = Math.max(100, Math.round(count / 10));
    await ingestCompletions(running, ingestion, 0, warm, run, concurrency);
    await waitCompleted(running, warm, `${peer} jobs`);
    await waitForIdle(pipeline.pid, { windowMs: 200, timeoutMs: 10_000 });
    await receiver.ask({ type: 'reset' }, 'reset-done');

    const storeCpu0 = store.cpuMs();
    const pipelineCpu0 = treeCpuMs(pipeline.pid);
    const started = performance.now();
    let ingestMs = Number.NaN;
    const ingesting = ingestCompletions(running, ingestion, warm, count, run, concurrency).then(() => {
      ingestMs = performance.now() - started;
    });
    // A failed ingestion ends the wait at once, not after its timeout.
    const recorded = await Promise.race([waitCompleted(running, warm + count, `${peer} jobs`), ingesting.then(() => new Promise<never>(() => undefined))]);
    const ms = performance.now() - started;
    const storeCpu = store.cpuMs() - storeCpu0;
    const pipelineCpu = treeCpuMs(pipeline.pid) - pipelineCpu0;
    await ingesting;
    if (recorded !== warm + count) throw new Error(`${peer}: ${recorded} jobs completed, expected ${warm + count}`);
    const stats = await receiver.ask({ type: 'stats' }, 'stats', 10_000);
    const receiverRequests = Number(stats.requests);
    if (receiverRequests !== count) throw new Error(`the receiver saw ${receiverRequests} requests from the ${peer} pipeline, expected ${count}`);
    if (Number(stats.distinctWebhookIds) !== count) throw new Error(`the receiver saw ${String(stats.distinctWebhookIds)} distinct webhook-ids, expected ${count}`);
    return {
      perSecond: perSecond(count, ms),
      cpuMsPerDelivery: (storeCpu + pipelineCpu) / count,
      ingestPerSecond: perSecond(count, ingestMs),
      receiverRequests,
      peakRssMb: pipeline.peakRssMb(),
      storeCpuMsPerDelivery: storeCpu / count,
      storePeakRssMb: store.peakRssMb(),
    };
  } finally {
    await running.stop();
  }
}
