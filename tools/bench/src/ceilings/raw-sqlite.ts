import { EVENT_STORE_MIGRATIONS, EventLog } from '@handinger-webhooks/event-store';
import { ensureReadModels } from '@handinger-webhooks/projections';
import { openSqliteDatabase, type SqliteConnection, type SqliteDatabase } from '@handinger-webhooks/storage-sqlite';

/**
 * The raw better-sqlite3 ceiling of the command path: the same file layout
 * (the product's own migrations and read-model DDL, so tables, indexes and
 * triggers are identical) and the same pragmas (the product's driver opens
 * it), but no decider, no stream read, no projector, no async layer: per
 * transaction one event insert and one read-model upsert through statements
 * prepared once, on the writer connection.
 */
export async function openCeilingDatabase(path: string): Promise<SqliteDatabase> {
  const db = openSqliteDatabase(path);
  await db.migrate('event-store', EVENT_STORE_MIGRATIONS);
  await ensureReadModels(db, new EventLog(db));
  return db;
}

const INSERT_EVENT = 'INSERT INTO events (stream_id, stream_position, type, data, metadata, recorded_at) VALUES (?, ?, ?, ?, ?, ?)';

/** What the raw side writes for execution `i`: the same data a DeliveryAttempted event carries. */
export interface RawExecution {
  deliveryId: string;
  executionId: string;
  workerId: string;
  url: string;
  taskId: string;
}

/** The data of a successful first attempt, as the product's event holds it. */
export function attemptData(e: RawExecution, now: string) {
  return {
    deliveryId: e.deliveryId,
    workerId: e.workerId,
    attempt: 1,
    executionId: e.executionId,
    startedAt: now,
    durationMs: 12,
    url: e.url,
    requestStatus: 'success',
    responseStatus: 200,
    errorMessage: null,
    taskId: e.taskId,
    taskTitle: null,
    dueAt: now,
    nextAttemptAt: null,
    result: 'delivered',
  };
}

/** `count` transactions of: insert a DeliveryAttempted event, upsert its execution row. Returns elapsed ms. */
export function rawRecordDeliveries(db: SqliteConnection, count: number, execution: (i: number) => RawExecution): number {
  const begin = db.prepare('BEGIN IMMEDIATE');
  const commit = db.prepare('COMMIT');
  const insertEvent = db.prepare(INSERT_EVENT);
  const upsertExecution = db.prepare(
    `INSERT OR REPLACE INTO webhook_executions
       (worker_id, seq, id, created_at, duration_ms, error_message, request_status, response_status, task_id, task_title, url, delivery_id)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const started = performance.now();
  for (let i = 0; i < count; i++) {
    const e = execution(i);
    const now = new Date().toISOString();
    begin.run();
    insertEvent.run(`delivery-${e.deliveryId}`, 1, 'DeliveryAttempted', JSON.stringify(attemptData(e, now)), '{}', now);
    upsertExecution.run(e.workerId, i + 1, e.executionId, now, 12, null, 'success', 200, e.taskId, null, e.url, e.deliveryId);
    commit.run();
  }
  return performance.now() - started;
}

/** Secrets of the product's sizes (sealed: `hwenc:v1:` + base64url of IV, 43 or 54 bytes, tag), fixed: sealing them is product work. */
export const SEALED_TOKEN = `hwenc:v1:${'x'.repeat(95)}`;
export const SEALED_SIGNING_SECRET = `hwenc:v1:${'y'.repeat(106)}`;

/** `count` transactions of: insert a WebhookConfigured event, upsert the worker's webhook row. Returns elapsed ms. */
export function rawSetWebhooks(db: SqliteConnection, count: number, webhook: (i: number) => { workerId: string; url: string; origin: string }): number {
  const begin = db.prepare('BEGIN IMMEDIATE');
  const commit = db.prepare('COMMIT');
  const insertEvent = db.prepare(`${INSERT_EVENT} RETURNING global_position`);
  const upsertWebhook = db.prepare(
    `INSERT OR REPLACE INTO webhooks (worker_id, url, origin, token, signing_secret, generation, updated_at, status, held_count, exhausted_in_span)
     VALUES (?, ?, ?, ?, ?, ?, ?, 'active', 0, 0)`,
  );
  const started = performance.now();
  for (let i = 0; i < count; i++) {
    const w = webhook(i);
    const now = new Date().toISOString();
    const data = { workerId: w.workerId, url: w.url, token: SEALED_TOKEN, signingSecret: SEALED_SIGNING_SECRET, configuredAt: now };
    begin.run();
    const { global_position } = insertEvent.get(`webhook-${w.workerId}`, 1, 'WebhookConfigured', JSON.stringify(data), '{}', now) as { global_position: number };
    upsertWebhook.run(w.workerId, w.url, w.origin, SEALED_TOKEN, SEALED_SIGNING_SECRET, global_position, now);
    commit.run();
  }
  return performance.now() - started;
}
