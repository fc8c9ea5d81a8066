/**
 * What both peer pipelines (peer-bullmq.ts, peer-pgboss.ts) share: the
 * pieces a Node developer writes around a job queue to do our service's job.
 *
 * - Ingestion: a node:http server taking `POST /task-completions` (the
 *   product's body: taskId, workerId, title, status, completedAt?, output),
 *   checking a Bearer key (constant-time compare), reading at most 1 MiB,
 *   validating the fields, minting a delivery id (`msg_<ulid>`, the product's
 *   format), enqueueing, and answering 202 `{accepted, duplicate}` once the
 *   queue's store acknowledged.
 * - Delivery: the notification body of SPEC §5 (`{type, timestamp, data}`),
 *   headers of the product's names and sizes with a real Standard Webhooks
 *   signature (HMAC-SHA256 over `<id>.<timestamp>.<body>`, key = the base64
 *   part of a `whsec_` secret), POSTed with an undici Pool of `concurrency`
 *   keep-alive connections (no pipelining, 10 s header/body timeouts, as the
 *   product's sender), the response body drained. A 2xx resolves with the
 *   outcome; anything else throws, so the queue retries.
 *
 * Configuration comes from the environment (set by peers/peer-rep.ts):
 * PEER_RECEIVER_URL, PEER_CONCURRENCY, PEER_API_KEY, PEER_WEBHOOK_TOKEN,
 * PEER_SIGNING_SECRET. The webhook (URL, token, secret) is one fixed
 * configuration held in memory: the peers do not look a worker's webhook up.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Pool } from 'undici';
import { createIdGenerator } from '@handinger-webhooks/contracts';
import type { Completion } from '../peers/workload.js';

export interface PeerConfig {
  receiverUrl: string;
  concurrency: number;
  apiKey: string;
  webhookToken: string;
  signingSecret: string;
}

export function configFromEnv(): PeerConfig {
  const need = (name: string): string => {
    const value = process.env[name];
    if (!value) throw new Error(`${name} is not set`);
    return value;
  };
  return {
    receiverUrl: need('PEER_RECEIVER_URL'),
    concurrency: Number(need('PEER_CONCURRENCY')),
    apiKey: need('PEER_API_KEY'),
    webhookToken: need('PEER_WEBHOOK_TOKEN'),
    signingSecret: need('PEER_SIGNING_SECRET'),
  };
}

/** What is stored in the queue per delivery: the completion as accepted, its delivery id and when it was recorded. */
export interface DeliveryJob {
  deliveryId: string;
  recordedAt: string;
  taskId: string;
  workerId: string;
  title: string | null;
  status: Completion['status'];
  completedAt: string;
  output: unknown;
}

/** The outcome of one attempt, kept by the queue as the job's result. */
export interface AttemptOutcome {
  status: number;
  durationMs: number;
  attemptedAt: string;
}

const ids = createIdGenerator();
const STATUSES = new Set(['completed', 'error', 'aborted']);
const MAX_BODY = 1024 * 1024;

/** Validates a parsed body as the product's `taskCompletionInputSchema` would (lengths, enum); null when invalid. */
export function toJob(input: unknown, nowMs = Date.now()): DeliveryJob | null {
  if (typeof input !== 'object' || input === null) return null;
  const c = input as Record<string, unknown>;
  const text = (v: unknown, max: number) => typeof v === 'string' && v.length >= 1 && v.length <= max;
  if (!text(c.taskId, 255) || !text(c.workerId, 255) || typeof c.status !== 'string' || !STATUSES.has(c.status)) return null;
  if (c.title !== undefined && c.title !== null && !(typeof c.title === 'string' && c.title.length <= 1_000)) return null;
  if (c.completedAt !== undefined && (typeof c.completedAt !== 'string' || Number.isNaN(Date.parse(c.completedAt)))) return null;
  const recordedAt = new Date(nowMs).toISOString();
  return {
    deliveryId: ids.deliveryId(),
    recordedAt,
    taskId: c.taskId as string,
    workerId: c.workerId as string,
    title: (c.title as string | null | undefined) ?? null,
    status: c.status as DeliveryJob['status'],
    completedAt: (c.completedAt as string | undefined) ?? recordedAt,
    output: c.output ?? null,
  };
}

/**
 * The ingestion server on 127.0.0.1 (a free port): `enqueue` resolves once
 * the job is acknowledged by the queue's store, with whether it was a
 * duplicate (same taskId already queued).
 */
export function startIngestion(config: PeerConfig, enqueue: (job: DeliveryJob) => Promise<{ duplicate: boolean }>): Promise<{ server: Server; port: number }> {
  const expected = Buffer.from(`Bearer ${config.apiKey}`);
  const reply = (res: ServerResponse, status: number, body: object) => {
    const json = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) });
    res.end(json);
  };
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== 'POST' || req.url !== '/task-completions') return reply(res, 404, { code: 'NOT_FOUND', message: 'not found' });
    const auth = Buffer.from(req.headers.authorization ?? '');
    if (auth.length !== expected.length || !timingSafeEqual(auth, expected)) {
      req.resume();
      return reply(res, 401, { code: 'UNAUTHORIZED', message: 'missing or invalid API key' });
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('end', () => {
      if (tooLarge) return reply(res, 413, { code: 'PAYLOAD_TOO_LARGE', message: 'body over 1 MiB' });
      let job: DeliveryJob | null;
      try {
        job = toJob(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch {
        job = null;
      }
      if (!job) return reply(res, 400, { code: 'BAD_REQUEST', message: 'invalid body' });
      enqueue(job).then(
        ({ duplicate }) => reply(res, 202, { accepted: true, duplicate }),
        (error: unknown) => {
          process.stderr.write(`enqueue failed: ${error instanceof Error ? error.message : String(error)}\n`);
          reply(res, 503, { code: 'UNAVAILABLE', message: 'could not enqueue' });
        },
      );
    });
  };
  const server = createServer(handle);
  server.keepAliveTimeout = 60_000;
  server.headersTimeout = 65_000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve({ server, port: typeof address === 'object' && address ? address.port : 0 });
    });
  });
}

/** The notification body of SPEC §5, as our service builds it from a completion. */
export const notificationBody = (job: DeliveryJob): Buffer =>
  Buffer.from(
    JSON.stringify({
      type: `task.${job.status}`,
      timestamp: job.recordedAt,
      data: { workerId: job.workerId, taskId: job.taskId, taskTitle: job.title, status: job.status, completedAt: job.completedAt, output: job.output },
    }),
    'utf8',
  );

/** POSTs notifications to the receiver; `deliver` resolves with the outcome on a 2xx, throws otherwise. */
export function createSender(config: PeerConfig) {
  const target = new URL(config.receiverUrl);
  const pool = new Pool(target.origin, { connections: config.concurrency, pipelining: 1, keepAliveTimeout: 60_000, headersTimeout: 10_000, bodyTimeout: 10_000 });
  const key = Buffer.from(config.signingSecret.replace(/^whsec_/, ''), 'base64');
  const userAgent = 'Handinger-Webhooks/0.1.0';
  const path = target.pathname + target.search;
  return {
    async deliver(job: DeliveryJob): Promise<AttemptOutcome> {
      const body = notificationBody(job);
      const started = performance.now();
      const attemptedAt = new Date();
      const timestamp = String(Math.floor(attemptedAt.getTime() / 1000));
      const signature = `v1,${createHmac('sha256', key).update(`${job.deliveryId}.${timestamp}.`).update(body).digest('base64')}`;
      const response = await pool.request({
        path,
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': userAgent,
          'x-handinger-token': config.webhookToken,
          'webhook-id': job.deliveryId,
          'webhook-timestamp': timestamp,
          'webhook-signature': signature,
        },
        body,
      });
      await response.body.dump({ limit: 64 * 1024 });
      const durationMs = performance.now() - started;
      if (response.statusCode < 200 || response.statusCode > 299) throw new Error(`receiver answered ${response.statusCode}`);
      return { status: response.statusCode, durationMs, attemptedAt: attemptedAt.toISOString() };
    },
    close: () => pool.close(),
  };
}
