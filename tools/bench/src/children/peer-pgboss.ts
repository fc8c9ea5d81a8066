/**
 * Peer pipeline 2: what a Node developer builds with pg-boss 10 on
 * PostgreSQL instead of our service, in one process (peer-common.ts has the
 * shared parts):
 *
 * - a queue created with `createQueue` (standard policy) with the retry
 *   policy a user would give webhooks: 7 retries (8 attempts), 1 s delay,
 *   exponential backoff;
 * - the ingestion server (`POST /task-completions`) calls `boss.send(...)`
 *   with the job id derived from the taskId (a name-based UUID: pg-boss
 *   inserts with ON CONFLICT DO NOTHING, so a second send of the same task
 *   returns null, the idempotency our API has), answers 202 once PostgreSQL
 *   committed, and `notifyWorker`s the workers (the documented way to skip
 *   the rest of their polling interval when a job was just created);
 * - `PEER_PGBOSS_WORKERS` workers (`boss.work`; pg-boss 10 has no teamSize:
 *   each call adds a polling worker), each fetching up to
 *   `PEER_PGBOSS_BATCH` jobs per iteration; the handler POSTs the batch's
 *   notifications concurrently (the undici Pool caps the in-flight requests
 *   at the per-origin concurrency), fails the jobs whose attempt failed
 *   (`boss.fail`, so they are retried) and returns: pg-boss then completes
 *   the batch in its job table (state `completed`, `completed_on`), which is
 *   the attempt recorded. A full batch re-notifies its own worker (more jobs
 *   are likely waiting; otherwise it would sleep out its polling interval
 *   before fetching again).
 *
 * IPC: `ready {port}` once listening and the workers are running;
 * `enqueue {count, from, run}` → `enqueued {count}` (the in-process form: one
 * `boss.insert` of `count` jobs, then the workers notified); `progress` →
 * `progress {handled, attemptsFailed}` (in-memory tallies of the handlers,
 * cheap to poll); `stats` →
 * `stats {recorded, failed, pending}` (a count on pg-boss's job table);
 * `reset` → `reset-done` (`purgeQueue` + completed jobs deleted).
 */
import { createHash } from 'node:crypto';
import PgBoss from 'pg-boss';
import { completion, PEER_WORKER_ID } from '../peers/workload.js';
import { exitWithParent, onMessage, send } from './child.js';
import { configFromEnv, createSender, startIngestion, toJob, type DeliveryJob } from './peer-common.js';

exitWithParent();
const QUEUE = 'webhook-deliveries';
const SCHEMA = 'pgboss';
const config = configFromEnv();
const url = process.env.PEER_PG_URL;
if (!url) throw new Error('PEER_PG_URL is not set');
const workers = Number(process.env.PEER_PGBOSS_WORKERS ?? 2);
const batchSize = Number(process.env.PEER_PGBOSS_BATCH ?? 100);
const poolSize = Number(process.env.PEER_PGBOSS_POOL ?? 10);
const pollingIntervalSeconds = Number(process.env.PEER_PGBOSS_POLL_S ?? 0.5);
/** 1: notifyWorker after each send/insert and after a full batch; 0: the workers only poll. */
const notify = process.env.PEER_PGBOSS_NOTIFY !== '0';

/** A name-based (v5-style) UUID of the taskId: the same task always gets the same job id. */
function jobIdOf(taskId: string): string {
  const b = createHash('sha1').update('handinger-webhooks-peer:').update(taskId).digest();
  b[6] = (b[6]! & 0x0f) | 0x50;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

const boss = new PgBoss({ connectionString: url, schema: SCHEMA, max: poolSize, application_name: 'peer-pgboss' });
boss.on('error', (error) => process.stderr.write(`pg-boss error: ${error.message}\n`));
await boss.start();
await boss.createQueue(QUEUE, { name: QUEUE, retryLimit: 7, retryDelay: 1, retryBackoff: true });

const sender = createSender(config);
const workerIds: string[] = [];
// In-memory tallies for `progress` (cheap to poll): attempts whose handler finished; pg-boss then completes them.
let handled = 0;
let attemptsFailed = 0;
const notifyAll = () => {
  if (!notify) return;
  for (const id of workerIds) boss.notifyWorker(id);
};

for (let w = 0; w < workers; w++) {
  let self: string | undefined;
  self = await boss.work<DeliveryJob>(QUEUE, { batchSize, pollingIntervalSeconds }, async (jobs) => {
    const results = await Promise.allSettled(jobs.map((job) => sender.deliver(job.data)));
    const failed = jobs.filter((_, i) => results[i]!.status === 'rejected').map((job) => job.id);
    handled += jobs.length - failed.length;
    attemptsFailed += failed.length;
    if (failed.length > 0) {
      const reason = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      const output = { message: reason.reason instanceof Error ? reason.reason.message : String(reason.reason) };
      await Promise.all(failed.map((id) => boss.fail(QUEUE, id, output)));
    }
    if (notify && jobs.length === batchSize && self) boss.notifyWorker(self);
    // Returning completes the batch's jobs still active (the failed ones were moved to retry above).
  });
  workerIds.push(self);
}

async function enqueue(job: DeliveryJob): Promise<{ duplicate: boolean }> {
  const id = await boss.send(QUEUE, job, { id: jobIdOf(job.taskId) });
  notifyAll();
  return { duplicate: id === null };
}

const db = boss.getDb();
onMessage(async (message) => {
  if (message.type === 'enqueue') {
    const count = Number(message.count);
    const from = Number(message.from ?? 0);
    const run = String(message.run);
    const now = Date.now();
    const jobs = Array.from({ length: count }, (_, i) => toJob(completion(PEER_WORKER_ID, from + i, run), now)!);
    await boss.insert(jobs.map((data) => ({ name: QUEUE, data, id: jobIdOf(data.taskId) })));
    notifyAll();
    await send({ type: 'enqueued', count });
  } else if (message.type === 'progress') {
    await send({ type: 'progress', handled, attemptsFailed });
  } else if (message.type === 'stats') {
    const { rows } = await db.executeSql(
      `SELECT count(*) FILTER (WHERE state = 'completed')::int AS recorded, count(*) FILTER (WHERE state = 'failed')::int AS failed,
              count(*) FILTER (WHERE state < 'completed')::int AS pending
         FROM ${SCHEMA}.job WHERE name = $1`,
      [QUEUE],
    );
    const row = rows[0] as { recorded: number; failed: number; pending: number };
    await send({ type: 'stats', recorded: row.recorded, failed: row.failed, pending: row.pending });
  } else if (message.type === 'reset') {
    await boss.purgeQueue(QUEUE);
    await db.executeSql(`DELETE FROM ${SCHEMA}.job WHERE name = $1`, [QUEUE]);
    handled = 0;
    attemptsFailed = 0;
    await send({ type: 'reset-done' });
  }
});

const { port } = await startIngestion(config, enqueue);
await send({ type: 'ready', port });
