import { migrateEventStore, openDatabase, type SqliteDatabase } from '@handinger-webhooks/event-store';
import { ensureReadModels } from '@handinger-webhooks/projections';

/**
 * The raw better-sqlite3 ceiling of the command path: the same file layout
 * (the product's own migrations and read-model DDL, so tables, indexes and
 * triggers are identical) and the same pragmas (the product's `openDatabase`),
 * but no decider, no stream read, no projector: per transaction one event
 * insert and one read-model upsert through statements prepared once.
 */
export async function openCeilingDatabase(path: string): Promise<SqliteDatabase> {
  const db = openDatabase(path);
  await migrateEventStore(db);
  await ensureReadModels(db);
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

/**
 * `count` transactions of: insert a DeliveryAttempted event, upsert its
 * execution row. Returns elapsed ms.
 */
export function rawRecordDeliveries(db: SqliteDatabase, count: number, execution: (i: number) => RawExecution): number {
  const begin = db.prepare('BEGIN IMMEDIATE');
  const commit = db.prepare('COMMIT');
  const insertEvent = db.prepare(INSERT_EVENT);
  const upsertExecution = db.prepare(
    `INSERT OR REPLACE INTO webhook_executions
       (worker_id, seq, id, created_at, duration_ms, error_message, request_status, response_status, task_id, task_title, url)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const started = performance.now();
  for (let i = 0; i < count; i++) {
    const e = execution(i);
    const now = new Date().toISOString();
    const data = {
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
    };
    begin.run();
    insertEvent.run(`delivery-${e.deliveryId}`, 1, 'DeliveryAttempted', JSON.stringify(data), '{}', now);
    upsertExecution.run(e.workerId, i + 1, e.executionId, now, 12, null, 'success', 200, e.taskId, null, e.url);
    commit.run();
  }
  return performance.now() - started;
}

/**
 * `count` transactions of: insert a WebhookConfigured event, upsert the
 * worker's webhook row. Returns elapsed ms.
 */
export function rawSetWebhooks(db: SqliteDatabase, count: number, webhook: (i: number) => { workerId: string; url: string; origin: string }): number {
  const begin = db.prepare('BEGIN IMMEDIATE');
  const commit = db.prepare('COMMIT');
  const insertEvent = db.prepare(INSERT_EVENT);
  const upsertWebhook = db.prepare(
    `INSERT OR REPLACE INTO webhooks (worker_id, url, origin, token, signing_secret, generation, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
  );
  // Secrets of the product's sizes (43-char base64url token, whsec_ + 44-char base64), fixed: minting them is product work.
  const token = 'x'.repeat(43);
  const signingSecret = `whsec_${'y'.repeat(44)}`;
  const started = performance.now();
  for (let i = 0; i < count; i++) {
    const w = webhook(i);
    const now = new Date().toISOString();
    const data = { workerId: w.workerId, url: w.url, token, signingSecret, configuredAt: now };
    begin.run();
    const { lastInsertRowid } = insertEvent.run(`webhook-${w.workerId}`, 1, 'WebhookConfigured', JSON.stringify(data), '{}', now);
    upsertWebhook.run(w.workerId, w.url, w.origin, token, signingSecret, Number(lastInsertRowid), now);
    commit.run();
  }
  return performance.now() - started;
}
