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

/**
 * Runs `count` units of work, `perTransaction` to a transaction: alone, or
 * many to one shared transaction (as the product's group commit runs the
 * commands of one turn when none fails). Returns elapsed ms.
 */
function inTransactions(db: SqliteConnection, count: number, perTransaction: number, unit: (i: number) => void): number {
  const [begin, commit] = ['BEGIN IMMEDIATE', 'COMMIT'].map((s) => db.prepare(s));
  const started = performance.now();
  for (let from = 0; from < count; from += perTransaction) {
    begin!.run();
    for (let i = from; i < Math.min(count, from + perTransaction); i++) unit(i);
    commit!.run();
  }
  return performance.now() - started;
}

/** `count` transactions of: insert a DeliveryAttempted event, upsert its execution row. Returns elapsed ms. */
export function rawRecordDeliveries(db: SqliteConnection, count: number, execution: (i: number) => RawExecution): number {
  const insertEvent = db.prepare(INSERT_EVENT);
  const upsertExecution = db.prepare(
    `INSERT OR REPLACE INTO webhook_executions
       (worker_id, seq, id, created_at, duration_ms, error_message, request_status, response_status, task_id, task_title, url, delivery_id)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  return inTransactions(db, count, 1, (i) => {
    const e = execution(i);
    const now = new Date().toISOString();
    insertEvent.run(`delivery-${e.deliveryId}`, 1, 'DeliveryAttempted', JSON.stringify(attemptData(e, now)), '{}', now);
    upsertExecution.run(e.workerId, i + 1, e.executionId, now, 12, null, 'success', 200, e.taskId, null, e.url, e.deliveryId);
  });
}

/** Secrets of the product's sizes (sealed: `hwenc:v1:` + base64url of IV, 43 or 54 bytes, tag), fixed: sealing them is product work. */
export const SEALED_TOKEN = `hwenc:v1:${'x'.repeat(95)}`;
export const SEALED_SIGNING_SECRET = `hwenc:v1:${'y'.repeat(106)}`;

/** `count` transactions of: insert a WebhookConfigured event, upsert the worker's webhook row. Returns elapsed ms. */
export function rawSetWebhooks(db: SqliteConnection, count: number, webhook: (i: number) => { workerId: string; url: string; origin: string }): number {
  const insertEvent = db.prepare(INSERT_EVENT);
  const upsertWebhook = db.prepare(
    `INSERT OR REPLACE INTO webhooks (worker_id, url, origin, token, signing_secret, generation, updated_at, status, held_count, exhausted_in_span)
     VALUES (?, ?, ?, ?, ?, ?, ?, 'active', 0, 0)`,
  );
  return inTransactions(db, count, 1, (i) => {
    const w = webhook(i);
    const now = new Date().toISOString();
    const data = { workerId: w.workerId, url: w.url, token: SEALED_TOKEN, signingSecret: SEALED_SIGNING_SECRET, configuredAt: now };
    const { lastInsertRowid } = insertEvent.run(`webhook-${w.workerId}`, 1, 'WebhookConfigured', JSON.stringify(data), '{}', now);
    upsertWebhook.run(w.workerId, w.url, w.origin, SEALED_TOKEN, SEALED_SIGNING_SECRET, lastInsertRowid, now);
  });
}

/** One settled claim, as the same-statements ceiling needs it: what the product's RecordDelivery reads off the claim. */
export interface RawClaim {
  deliveryId: string;
  workerId: string;
  taskId: string | null;
  dueAt: string;
  version: number;
  claimToken: string;
}

/**
 * The second ceiling of RecordDelivery: every statement the product's
 * command runs for a successful first attempt of a claimed notification,
 * in its order, by hand (prepared once, no decider, no projector, no
 * promises): the event, the failure span's no-op update (SPEC §8.5), the
 * execution's rank and row, the queue row it settles and the claim it
 * releases. Product ÷ this is what the layers cost; this ÷ the first
 * ceiling is what the statements themselves cost.
 */
export function rawRecordAttemptsSameStatements(db: SqliteConnection, claims: readonly RawClaim[], perTransaction: number, url: string): number {
  const insertEvent = db.prepare(`${INSERT_EVENT} ON CONFLICT (stream_id, stream_position) DO NOTHING`);
  const spanEnds = db.prepare('UPDATE webhooks SET failing_since = NULL, exhausted_in_span = 0 WHERE worker_id = ? AND failing_since IS NOT NULL');
  const newest = db.prepare('SELECT seq, created_at, id FROM webhook_executions WHERE worker_id = ? ORDER BY seq DESC LIMIT 1');
  const insertExecution = db.prepare(
    `INSERT INTO webhook_executions (worker_id, seq, id, created_at, duration_ms, error_message, request_status, response_status, task_id, task_title, url, delivery_id)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const finish = db.prepare('DELETE FROM delivery_queue WHERE due_at = ? AND delivery_id = ?');
  const release = db.prepare('DELETE FROM delivery_claims WHERE delivery_id = ? AND token = ?');
  return inTransactions(db, claims.length, perTransaction, (i) => {
    const c = claims[i]!;
    const now = new Date().toISOString();
    const executionId = `whe_${c.deliveryId.slice(4)}`;
    const e = { deliveryId: c.deliveryId, executionId, workerId: c.workerId, url, taskId: c.taskId ?? '' };
    insertEvent.run(`delivery-${c.deliveryId}`, c.version + 1, 'DeliveryAttempted', JSON.stringify(attemptData(e, now)), JSON.stringify({ claim: c.claimToken }), now);
    spanEnds.run(c.workerId);
    const last = newest.get(c.workerId) as { seq: number } | undefined;
    insertExecution.run(c.workerId, (last?.seq ?? 0) + 1, executionId, now, 12, null, 'success', 200, c.taskId, null, url, c.deliveryId);
    finish.run(Date.parse(c.dueAt), c.deliveryId);
    release.run(c.deliveryId, c.claimToken);
  });
}

/**
 * The second ceiling of SetWebhook: every statement the product's command
 * runs to configure a worker's first webhook, by hand, and the sealing of
 * fresh secrets it must do (SPEC §7): whether the worker is live (it must
 * exist and not be deleted), the webhook stream, the event, the webhook's
 * row, and the row read back for the answer.
 */
export function rawSetWebhooksSameStatements(
  db: SqliteConnection,
  workerIds: readonly string[],
  perTransaction: number,
  seal: (workerId: string) => { token: string; signingSecret: string },
  webhook: (i: number) => { url: string; origin: string },
): number {
  const worker = db.prepare('SELECT 1 AS live FROM workers WHERE id = ? AND deleted_at IS NULL');
  const stream = db.prepare('SELECT global_position, stream_id, stream_position, type, data, metadata, recorded_at FROM events WHERE stream_id = ? ORDER BY stream_position');
  const insertEvent = db.prepare(`${INSERT_EVENT} ON CONFLICT (stream_id, stream_position) DO NOTHING`);
  const configure = db.prepare(
    `INSERT INTO webhooks (worker_id, url, origin, token, signing_secret, generation, updated_at, status, held_count, exhausted_in_span)
     VALUES (?, ?, ?, ?, ?, ?, ?, 'active', 0, 0)`,
  );
  const readBack = db.prepare('SELECT * FROM webhooks WHERE worker_id = ?');
  return inTransactions(db, workerIds.length, perTransaction, (i) => {
    const workerId = workerIds[i]!;
    const w = webhook(i);
    const now = new Date().toISOString();
    worker.get(workerId);
    stream.all(`webhook-${workerId}`);
    const secrets = seal(workerId);
    const data = { workerId, url: w.url, token: secrets.token, signingSecret: secrets.signingSecret, configuredAt: now };
    const { lastInsertRowid } = insertEvent.run(`webhook-${workerId}`, 1, 'WebhookConfigured', JSON.stringify(data), '{}', now);
    configure.run(workerId, w.url, w.origin, secrets.token, secrets.signingSecret, lastInsertRowid, now);
    readBack.get(workerId);
  });
}
