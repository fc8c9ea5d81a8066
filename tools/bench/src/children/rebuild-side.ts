/**
 * One side of the rebuild scenario, in its own process so its peak RSS is
 * its own: `node rebuild-side.js product|ceiling DB_PATH`.
 *
 * - product: `rebuildReadModels(db)`, exactly what `rebuild-projections` runs
 *   (the database opened as it opens it: WAL checkpoints on their own thread).
 * - ceiling: raw better-sqlite3 over the same file with the same pragmas:
 *   reads the log in batches through one prepared statement, parses each
 *   event, and inserts the same read-model rows (workers, executions with
 *   their per-worker rank) into tables created with the product's DDL, one
 *   transaction per batch. No projector, no per-event dispatch, no swap.
 * - same: the ceiling, running every statement the product's projections run
 *   for these events, by hand: per attempt the failure span's update
 *   (SPEC §8.5), the execution's row, the queue and held-table
 *   deletes that settle it, and an exhausted one's failed-deliveries row
 *   (SPEC §8.6). The product ÷ this is what its layers cost.
 *
 * Reports `{ type: 'result', ms, events, peakRssMb }` over IPC, then exits.
 */
import { EventLog } from '@handinger-webhooks/event-store';
import { openSqliteDatabase } from '@handinger-webhooks/storage-sqlite';
import { LIVE_TABLES, readModelDdl, rebuildReadModels, type TableSet } from '@handinger-webhooks/projections';
import { exitWithParent, ownPeakRssMb, send } from './child.js';

const BATCH = 10_000;

const CEILING_TABLES = Object.fromEntries(Object.entries(LIVE_TABLES).map(([key, name]) => [key, `${name}__ceiling`])) as unknown as TableSet;

async function product(dbPath: string): Promise<{ ms: number; events: number }> {
  // As `rebuild-projections` opens it: checkpoints on their own thread.
  const db = openSqliteDatabase(dbPath, { backgroundCheckpoints: true });
  try {
    const started = performance.now();
    const result = await rebuildReadModels(db, new EventLog(db));
    return { ms: performance.now() - started, events: result.events };
  } finally {
    await db.close();
  }
}

type WorkerData = { workerId: string; organizationId: string; userId: string; title: string; instructions: string; summary: string; visibility: string; createdAt: string };
type AttemptData = {
  workerId: string;
  executionId: string;
  deliveryId: string;
  startedAt: string;
  durationMs: number;
  errorMessage: string | null;
  requestStatus: string;
  responseStatus: number | null;
  taskId: string | null;
  taskTitle: string | null;
  url: string;
};

/** The statements the product's projections add per attempt beyond the execution's row (`same` mode). */
function productStatements(db: ReturnType<typeof openSqliteDatabase>['writer'], t: TableSet) {
  const succeeded = db.prepare(`UPDATE ${t.webhooks} SET failing_since = NULL, exhausted_in_span = 0 WHERE worker_id = ? AND failing_since IS NOT NULL`);
  const failed = db.prepare(
    `UPDATE ${t.webhooks} SET failing_since = COALESCE(failing_since, ?), exhausted_in_span = CASE WHEN ? = 1 THEN 1 ELSE exhausted_in_span END WHERE worker_id = ?`,
  );
  const finish = db.prepare(`DELETE FROM ${t.deliveryQueue} WHERE due_at = ? AND delivery_id = ?`);
  const finishHeld = db.prepare(`DELETE FROM ${t.heldDeliveries} WHERE worker_id = ? AND delivery_id = ?`);
  const failedDelivery = db.prepare(
    `INSERT INTO ${t.failedDeliveries} (worker_id, first_attempted_at, delivery_id, failed_position) VALUES (?, ?, ?, ?)
     ON CONFLICT (delivery_id) DO UPDATE SET failed_position = excluded.failed_position`,
  );
  /** Runs them for one attempt (its rank is kept in a Map, as the product's rebuild keeps it). */
  return (d: AttemptData & { dueAt: string; result?: string }, globalPosition: number): void => {
    if (d.requestStatus === 'success') succeeded.run(d.workerId);
    else failed.run(d.startedAt, d.result === 'exhausted' ? 1 : 0, d.workerId);
    if (finish.run(Date.parse(d.dueAt), d.deliveryId).changes === 0) finishHeld.run(d.workerId, d.deliveryId);
    if (d.result === 'exhausted') failedDelivery.run(d.workerId, d.startedAt, d.deliveryId, globalPosition);
  };
}

async function ceiling(dbPath: string, sameStatements: boolean): Promise<{ ms: number; events: number }> {
  const database = openSqliteDatabase(dbPath);
  const db = database.writer;
  const drop = () => {
    for (const name of Object.values(CEILING_TABLES)) db.exec(`DROP TABLE IF EXISTS ${name}`);
  };
  try {
    drop();
    const started = performance.now();
    db.transaction(() => {
      for (const statement of readModelDdl('sqlite', CEILING_TABLES)) db.exec(statement);
    })();
    const read = db.prepare('SELECT global_position, type, data FROM events WHERE global_position > ? ORDER BY global_position LIMIT ?').raw();
    const insertWorker = db.prepare(
      `INSERT INTO ${CEILING_TABLES.workers} (id, organization_id, user_id, title, instructions, summary, visibility, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const insertExecution = db.prepare(
      `INSERT INTO ${CEILING_TABLES.executions}
         (worker_id, seq, id, created_at, duration_ms, error_message, request_status, response_status, task_id, task_title, url, delivery_id)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const seqs = new Map<string, number>();
    const settle = sameStatements ? productStatements(db, CEILING_TABLES) : null;
    let position = 0;
    let events = 0;
    const batch = db.transaction(() => {
      const rows = read.all(position, BATCH) as [number, string, string][];
      for (const [globalPosition, type, json] of rows) {
        position = globalPosition;
        if (type === 'DeliveryAttempted') {
          const d = JSON.parse(json) as AttemptData & { dueAt: string; result?: string };
          settle?.(d, globalPosition);
          const seq = (seqs.get(d.workerId) ?? 0) + 1;
          seqs.set(d.workerId, seq);
          insertExecution.run(d.workerId, seq, d.executionId, d.startedAt, d.durationMs, d.errorMessage, d.requestStatus, d.responseStatus, d.taskId, d.taskTitle, d.url, d.deliveryId);
        } else if (type === 'WorkerCreated') {
          const d = JSON.parse(json) as WorkerData;
          insertWorker.run(d.workerId, d.organizationId, d.userId, d.title, d.instructions, d.summary, d.visibility, d.createdAt, d.createdAt);
        }
      }
      return rows.length;
    });
    for (;;) {
      const n = batch.immediate();
      events += n;
      if (n < BATCH) break;
    }
    const ms = performance.now() - started;
    return { ms, events };
  } finally {
    drop();
    await database.close();
  }
}

exitWithParent();
const [mode, dbPath] = process.argv.slice(2);
if ((mode !== 'product' && mode !== 'ceiling' && mode !== 'same') || !dbPath) {
  process.stderr.write('usage: rebuild-side.js product|ceiling|same DB_PATH\n');
  process.exit(2);
}
const outcome = mode === 'product' ? await product(dbPath) : await ceiling(dbPath, mode === 'same');
await send({ type: 'result', ...outcome, peakRssMb: ownPeakRssMb() });
process.exit(0);
