/**
 * Peer pipeline 1: what a Node developer builds with BullMQ on Redis instead
 * of our service, in one process (peer-common.ts has the shared parts):
 *
 * - the ingestion server (`POST /task-completions`) calls `queue.add(...)`
 *   (jobId = taskId: BullMQ ignores a second add of the same id, the
 *   idempotency our API has) and answers 202 once Redis acknowledged;
 * - a BullMQ `Worker` with `concurrency` = the per-origin concurrency POSTs
 *   each notification and returns the outcome `{status, durationMs,
 *   attemptedAt}`: BullMQ keeps the completed job with that return value in
 *   Redis (default `removeOnComplete`: keep), which is the attempt recorded.
 *   A failed attempt throws: `attempts: 8`, exponential backoff from 1 s.
 *
 * Redis connection: PEER_REDIS_HOST + PEER_REDIS_PORT, or PEER_REDIS_PATH
 * (Unix socket). Everything else BullMQ's defaults.
 *
 * IPC: `ready {port}` once listening and the worker is running;
 * `enqueue {count, from, run}` → `enqueued {count}` (the in-process form: one
 * `addBulk` of `count` completions); `progress` → `progress {handled,
 * attemptsFailed}` (in-memory tallies of the worker's 'completed'/'failed'
 * events, cheap to poll); `stats` → `stats {recorded, failed,
 * waiting, active}` (getJobCounts); `reset` → `reset-done` (obliterate).
 */
import { Queue, Worker, type ConnectionOptions, type JobsOptions } from 'bullmq';
import { completion, PEER_WORKER_ID } from '../peers/workload.js';
import { exitWithParent, onMessage, send } from './child.js';
import { configFromEnv, createSender, startIngestion, toJob, type AttemptOutcome, type DeliveryJob } from './peer-common.js';

exitWithParent();
const QUEUE = 'webhook-deliveries';
const config = configFromEnv();
const redis = process.env.PEER_REDIS_PATH
  ? { path: process.env.PEER_REDIS_PATH }
  : { host: process.env.PEER_REDIS_HOST ?? '127.0.0.1', port: Number(process.env.PEER_REDIS_PORT) };
// BullMQ: a Worker's connection must have maxRetriesPerRequest null (its blocking commands); the Queue's keeps ioredis' default.
const queueConnection: ConnectionOptions = { ...redis };
const workerConnection: ConnectionOptions = { ...redis, maxRetriesPerRequest: null };
const jobOptions = (job: DeliveryJob): JobsOptions => ({ jobId: job.taskId });

const queue = new Queue<DeliveryJob, AttemptOutcome>(QUEUE, {
  connection: queueConnection,
  defaultJobOptions: { attempts: 8, backoff: { type: 'exponential', delay: 1_000 } },
});
queue.on('error', (error) => process.stderr.write(`queue error: ${error.message}\n`));
const sender = createSender(config);
const worker = new Worker<DeliveryJob, AttemptOutcome>(QUEUE, (job) => sender.deliver(job.data), {
  connection: workerConnection,
  concurrency: config.concurrency,
});
worker.on('error', (error) => process.stderr.write(`worker error: ${error.message}\n`));
// In-memory tallies for `progress` (cheap to poll): 'completed' fires once Redis has the job completed.
let handled = 0;
let attemptsFailed = 0;
worker.on('completed', () => handled++);
worker.on('failed', () => attemptsFailed++);

async function enqueue(job: DeliveryJob): Promise<{ duplicate: boolean }> {
  await queue.add('task.completed', job, jobOptions(job));
  // BullMQ ignores the add of a jobId it already has without telling the caller (only a
  // 'duplicated' event on the events stream), so the answer cannot say "duplicate".
  return { duplicate: false };
}

onMessage(async (message) => {
  if (message.type === 'enqueue') {
    const count = Number(message.count);
    const from = Number(message.from ?? 0);
    const run = String(message.run);
    const now = Date.now();
    const jobs = Array.from({ length: count }, (_, i) => toJob(completion(PEER_WORKER_ID, from + i, run), now)!);
    await queue.addBulk(jobs.map((data) => ({ name: 'task.completed', data, opts: jobOptions(data) })));
    await send({ type: 'enqueued', count });
  } else if (message.type === 'progress') {
    await send({ type: 'progress', handled, attemptsFailed });
  } else if (message.type === 'stats') {
    const counts = await queue.getJobCounts('completed', 'failed', 'waiting', 'active', 'delayed');
    await send({ type: 'stats', recorded: counts.completed ?? 0, failed: counts.failed ?? 0, waiting: counts.waiting ?? 0, active: counts.active ?? 0, delayed: counts.delayed ?? 0 });
  } else if (message.type === 'reset') {
    await queue.obliterate({ force: true });
    handled = 0;
    attemptsFailed = 0;
    await send({ type: 'reset-done' });
  }
});

const { port } = await startIngestion(config, enqueue);
await Promise.all([queue.waitUntilReady(), worker.waitUntilReady()]);
await send({ type: 'ready', port });
