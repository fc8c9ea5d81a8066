import { openApplication, type Application } from '@handinger-webhooks/commands';
import { streams, type TaskStatus, type WebhookExecution } from '@handinger-webhooks/contracts';
import { afterEach, beforeEach } from 'vitest';
import { openWebhookSecrets } from '@handinger-webhooks/secrets';
import { createTempDir, startReceiver, type Receiver } from '@handinger-webhooks/testing';
import { startDelivery, type DeliveryInternals, type DeliveryService } from '../delivery-service.js';
import type { DeliveryOptions } from '../options.js';

/** A real SQLite file in a temp dir, with delivery services stopped and the file removed by `close()`. */
export interface TestBed {
  app: Application;
  dbPath: string;
  /** Starts delivery with fast test defaults (private network allowed, short schedule); stopped by `close()`. */
  deliver(options?: Partial<DeliveryOptions>, internals?: DeliveryInternals): DeliveryService;
  /** Another process's view of the same database file (closed by `close()`). */
  openSecondApp(): Promise<Application>;
  close(): Promise<void>;
}

export async function createTestBed(): Promise<TestBed> {
  const dir = createTempDir('handinger-delivery-');
  const dbPath = dir.file('handinger.db');
  const app = await openApplication({ dbPath });
  const services: DeliveryService[] = [];
  const apps: Application[] = [app];
  return {
    app,
    dbPath,
    deliver(options = {}, internals = {}) {
      const service = startDelivery(
        app,
        { version: '9.9.9-test', allowPrivateNetwork: true, retryScheduleMs: [50, 100], timeoutMs: 2_000, ...options },
        internals,
      );
      services.push(service);
      return service;
    },
    async openSecondApp() {
      const second = await openApplication({ dbPath });
      apps.push(second);
      return second;
    },
    async close() {
      await Promise.all(services.map((s) => s.stop()));
      for (const a of apps) a.close();
      dir.remove();
    },
  };
}

let taskCounter = 0;

/** A worker's webhook with its secrets opened (the read model holds them sealed). */
export function openedWebhook(app: Application, workerId: string): { url: string; token: string; signingSecret: string } {
  const row = app.readModels.webhook(workerId);
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
 * Resolves once `predicate` holds, checking now and after every commit made
 * through `watch` (deliveries record through their application; pass every
 * application whose delivery service may write): event-driven, no polling.
 */
export function untilCommitted<T>(
  watch: Application | Application[],
  predicate: () => T | undefined | false,
  timeoutMs = 15_000,
  what = 'condition',
): Promise<T> {
  const first = predicate();
  if (first) return Promise.resolve(first);
  return new Promise((resolve, reject) => {
    const unsubscribes: (() => void)[] = [];
    const done = () => {
      clearTimeout(timer);
      for (const unsubscribe of unsubscribes) unsubscribe();
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
    }, timeoutMs);
    for (const app of Array.isArray(watch) ? watch : [watch]) {
      unsubscribes.push(
        app.store.onCommit(() => {
          const value = predicate();
          if (!value) return;
          done();
          resolve(value);
        }),
      );
    }
  });
}

/** Every execution of a worker, oldest first. */
export function executions(app: Application, workerId: string): WebhookExecution[] {
  const all: WebhookExecution[] = [];
  for (let page = 1; ; page++) {
    const list = app.readModels.executionsPage(workerId, page);
    all.push(...list.logs);
    if (page >= list.pageCount) break;
  }
  return all.reverse();
}

/** Waits until the worker has at least `count` executions (recorded through `app` or `alsoWatch`); returns them oldest first. */
export function waitForExecutions(
  app: Application,
  workerId: string,
  count: number,
  timeoutMs?: number,
  alsoWatch: Application[] = [],
): Promise<WebhookExecution[]> {
  return untilCommitted(
    [app, ...alsoWatch],
    () => {
      const list = executions(app, workerId);
      return list.length >= count ? list : undefined;
    },
    timeoutMs,
    `${count} executions of ${workerId}`,
  );
}

/** Pending attempts in the durable schedule (all workers). */
export function queueSize(app: Application): number {
  return (app.db.prepare('SELECT COUNT(*) AS n FROM delivery_queue').get() as { n: number }).n;
}

/** The event types of one delivery stream, in order. */
export function deliveryEvents(app: Application, deliveryId: string): string[] {
  return app.store.readStream(streams.delivery(deliveryId)).map((e) => e.type);
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
 * Registers the hooks every delivery test file needs: a fresh test bed
 * before each test (handed to `assign`), and after it the receivers started
 * through the returned `receiver` closed and the bed torn down.
 */
export function useTestBed(assign: (bed: TestBed) => void): { receiver: typeof startReceiver } {
  const receivers: Receiver[] = [];
  let current: TestBed | undefined;
  beforeEach(async () => {
    current = await createTestBed();
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
