import { openApplication, type Application } from '@handinger-webhooks/commands';
import { streams, type DeliveryEvent, type TaskStatus, type WebhookExecution } from '@handinger-webhooks/contracts';
import { COMMIT_SIGNAL, type RecordedEvent } from '@handinger-webhooks/event-store';
import { LIVE_TABLES, type Claim, type DeliveryClaims } from '@handinger-webhooks/projections';
import { openWebhookSecrets } from '@handinger-webhooks/secrets';
import { createTestDatabase, startReceiver, type Receiver, type TestBackend, type TestDatabase } from '@handinger-webhooks/testing';
import { afterEach, beforeEach } from 'vitest';
import { startDelivery, type DeliveryInternals, type DeliveryService } from '../delivery-service.js';
import type { DeliveryOptions } from '../options.js';

/** A real, fresh database (SQLite file or PostgreSQL database), with delivery services stopped and the database removed by `close()`. */
export interface TestBed {
  backend: TestBackend;
  app: Application;
  database: TestDatabase;
  /** Starts delivery with fast test defaults (private network allowed, short schedule); stopped by `close()`. */
  deliver(options?: Partial<DeliveryOptions>, internals?: DeliveryInternals, app?: Application): DeliveryService;
  /** Another process's view of the same database (closed by `close()`). */
  openSecondApp(): Promise<Application>;
  close(): Promise<void>;
}

export async function createTestBed(backend: TestBackend = 'sqlite'): Promise<TestBed> {
  const database = await createTestDatabase(backend);
  const open = () => openApplication({ db: database.db, secretKey: database.secretKey });
  const app = await open();
  const services: DeliveryService[] = [];
  const apps: Application[] = [app];
  return {
    backend,
    app,
    database,
    deliver(options = {}, internals = {}, on = app) {
      const service = startDelivery(
        on,
        { version: '9.9.9-test', allowPrivateNetwork: true, retryScheduleMs: [50, 100], timeoutMs: 2_000, pollIntervalMs: 100, ...options },
        internals,
      );
      services.push(service);
      return service;
    },
    async openSecondApp() {
      const second = await open();
      apps.push(second);
      return second;
    },
    async close() {
      await Promise.all(services.map((s) => s.stop()));
      for (const a of apps) await a.close();
      await database.drop();
    },
  };
}

let taskCounter = 0;

/** A worker's webhook with its secrets opened (the read model holds them sealed). */
export async function openedWebhook(app: Application, workerId: string): Promise<{ url: string; token: string; signingSecret: string }> {
  const row = await app.readModels.webhook(workerId);
  if (!row) throw new Error(`worker ${workerId} has no webhook`);
  return { url: row.url, ...openWebhookSecrets(app.secretBox, workerId, { token: row.token, signingSecret: row.signing_secret }) };
}

/** A worker with a webhook to `url` (set through the command, which does not validate the URL). */
export async function workerWithWebhook(app: Application, url: string | null): Promise<string> {
  const worker = await app.commands.createWorker({ organizationId: 'org_test', userId: 'user_test' }, { title: 'Test worker' });
  if (url !== null) await app.commands.setWebhook(worker.id, url);
  return worker.id;
}

/** Records a task completion for the worker; returns its taskId. */
export async function completeTask(
  app: Application,
  workerId: string,
  fields: { taskId?: string; title?: string | null; status?: TaskStatus; output?: unknown; completedAt?: string } = {},
): Promise<string> {
  const taskId = fields.taskId ?? `task_${process.pid}_${++taskCounter}`;
  await app.commands.recordTaskCompletion({
    taskId,
    workerId,
    title: fields.title === undefined ? `Title of ${taskId}` : fields.title,
    status: fields.status ?? 'completed',
    output: fields.output ?? { answer: 42 },
    ...(fields.completedAt ? { completedAt: fields.completedAt } : {}),
  });
  return taskId;
}

/**
 * `perWorker` completions for each worker, at most `inFlight` recording at a
 * time: a burst of thousands at once queues behind the PostgreSQL pool's ten
 * connections past its 10 s checkout timeout on a loaded machine.
 */
export async function completeTasksFor(app: Application, workerIds: readonly string[], perWorker: number, fields: Parameters<typeof completeTask>[2] = {}, inFlight = 64): Promise<void> {
  const total = workerIds.length * perWorker;
  let next = 0;
  // Round robin over the workers, so their deliveries fall due interleaved, as from concurrent callers.
  const runner = async () => {
    while (next < total) await completeTask(app, workerIds[next++ % workerIds.length]!, fields);
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, total) }, runner));
}

/**
 * Resolves once `predicate` holds, checking now and after every commit made
 * through `watch` (deliveries record through their application; pass every
 * application whose delivery service may write): event-driven, no polling.
 * Checks run one at a time; a commit during a check makes it check again.
 */
export function untilCommitted<T>(
  watch: Application | Application[],
  predicate: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 15_000,
  what = 'condition',
): Promise<T> {
  return new Promise((resolve, reject) => {
    const unsubscribes: (() => void)[] = [];
    let finished = false;
    let checking = false;
    let again = false;
    const done = () => {
      finished = true;
      clearTimeout(timer);
      for (const unsubscribe of unsubscribes) unsubscribe();
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
    }, timeoutMs);
    const check = async (): Promise<void> => {
      if (finished) return;
      if (checking) {
        again = true;
        return;
      }
      checking = true;
      try {
        do {
          again = false;
          const value = await predicate();
          if (value) {
            done();
            resolve(value);
            return;
          }
        } while (again && !finished);
      } catch (error) {
        done();
        reject(error);
      } finally {
        checking = false;
      }
    };
    for (const app of Array.isArray(watch) ? watch : [watch]) unsubscribes.push(app.database.onSignal(COMMIT_SIGNAL, () => void check()));
    void check();
  });
}

/** Every execution of a worker, oldest first. */
export async function executions(app: Application, workerId: string): Promise<WebhookExecution[]> {
  const all: WebhookExecution[] = [];
  for (let page = 1; ; page++) {
    const list = await app.readModels.executionsPage(workerId, page);
    all.push(...list.logs);
    if (page >= list.pageCount) break;
  }
  return all.reverse();
}

/** Waits until the worker has at least `count` executions (recorded through `app` or `alsoWatch`); returns them oldest first. */
export function waitForExecutions(app: Application, workerId: string, count: number, timeoutMs?: number, alsoWatch: Application[] = []): Promise<WebhookExecution[]> {
  return untilCommitted(
    [app, ...alsoWatch],
    async () => {
      const list = await executions(app, workerId);
      return list.length >= count ? list : undefined;
    },
    timeoutMs,
    `${count} executions of ${workerId}`,
  );
}

/** Pending deliveries in the queue (all workers). */
export function queueSize(app: Application): Promise<number> {
  return app.claims.size(app.database.sql);
}

/** One pending delivery's queue row: its next attempt, and the live claim on it if any. */
export interface QueueRow {
  deliveryId: string;
  attempt: number;
  dueAt: number;
  claimToken: string | null;
  claimOwner: string | null;
  claimExpiresAt: number | null;
}

/** The delivery queue as it is now (all workers), in due order. */
export async function queueRows(app: Application): Promise<QueueRow[]> {
  const rows = await app.database.sql.all<{
    delivery_id: string;
    attempt: number;
    due_at: number;
    claim_token: string | null;
    claim_owner: string | null;
    claim_expires_at: number | null;
  }>(
    `SELECT q.delivery_id, q.attempt, q.due_at, c.token AS claim_token, c.owner AS claim_owner, c.expires_at AS claim_expires_at
     FROM ${LIVE_TABLES.deliveryQueue} q LEFT JOIN delivery_claims c ON c.delivery_id = q.delivery_id ORDER BY q.due_at, q.delivery_id`,
  );
  return rows.map((row) => ({
    deliveryId: row.delivery_id,
    attempt: Number(row.attempt),
    dueAt: Number(row.due_at),
    claimToken: row.claim_token,
    claimOwner: row.claim_owner,
    claimExpiresAt: row.claim_expires_at === null ? null : Number(row.claim_expires_at),
  }));
}

/** The events of one delivery stream, in order. */
export function deliveryStream(app: Application, deliveryId: string): Promise<RecordedEvent<DeliveryEvent>[]> {
  return app.log.stream<DeliveryEvent>(streams.delivery(deliveryId));
}

/**
 * The same application (database, log, read models) as a delivery service
 * sees it, with seams for tests of several processes: its claims are
 * observable, and its look for the next due time can be slowed. Nothing is
 * faked: every claim runs for real, on the real database.
 */
export interface ObservedApp {
  app: Application;
  /**
   * Resolves with the next claim this application's claim stage returns
   * (inside its transaction, just before the commit) that satisfies
   * `predicate`; only claims made after the call count.
   */
  nextClaim(predicate?: (claim: Claim) => boolean, timeoutMs?: number): Promise<Claim>;
  /** Makes every look for the next due time (after an empty claim) start `ms` late, as on a busy machine. */
  slowLookAhead(ms: number): void;
}

export function observe(app: Application): ObservedApp {
  const listeners = new Set<(claim: Claim) => void>();
  const claims = Object.create(app.claims) as DeliveryClaims;
  claims.claim = async (tx, request) => {
    const claim = await app.claims.claim(tx, request);
    for (const listener of [...listeners]) listener(claim);
    return claim;
  };
  let lookAheadDelayMs = 0;
  claims.nextWakeAt = async (sql, owner, after) => {
    if (lookAheadDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, lookAheadDelayMs));
    return app.claims.nextWakeAt(sql, owner, after);
  };
  return {
    app: { ...app, claims },
    nextClaim(predicate = () => true, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          listeners.delete(listener);
          reject(new Error(`no matching claim within ${timeoutMs} ms`));
        }, timeoutMs);
        const listener = (claim: Claim): void => {
          if (!predicate(claim)) return;
          clearTimeout(timer);
          listeners.delete(listener);
          resolve(claim);
        };
        listeners.add(listener);
      });
    },
    slowLookAhead(ms) {
      lookAheadDelayMs = ms;
    },
  };
}

/** The event types of one delivery stream, in order. */
export async function deliveryEvents(app: Application, deliveryId: string): Promise<string[]> {
  return (await app.log.stream(streams.delivery(deliveryId))).map((e) => e.type);
}

/** A port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const { createServer } = await import('node:net');
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Registers the hooks every delivery test file needs: a fresh test bed on
 * `backend` before each test (handed to `assign`), and after it the
 * receivers started through the returned `receiver` closed and the bed
 * torn down.
 */
export function useTestBed(assign: (bed: TestBed) => void, backend: TestBackend = 'sqlite'): { receiver: typeof startReceiver } {
  const receivers: Receiver[] = [];
  let current: TestBed | undefined;
  beforeEach(async () => {
    current = await createTestBed(backend);
    assign(current);
  });
  afterEach(async () => {
    await Promise.all(receivers.splice(0).map((r) => r.close()));
    await current?.close();
  });
  return {
    receiver: async (...args) => {
      const started = await startReceiver(...args);
      receivers.push(started);
      return started;
    },
  };
}
