import type { DomainEvent } from '@handinger-webhooks/contracts';
import type { RecordedEvent, TxSql } from '@handinger-webhooks/event-store';
import type { TableSet } from '../tables.js';
import type { Projection } from './projection.js';
import { lockWorker } from './worker-lock.js';

export interface ExecutionRow {
  id: string;
  worker_id: string;
  seq: number;
  created_at: string;
  duration_ms: number;
  error_message: string | null;
  request_status: 'success' | 'error';
  response_status: number | null;
  task_id: string | null;
  task_title: string | null;
  url: string;
  /** The notification (its `webhook-id`): its stream holds the rest of what the detail shows (SPEC §8.7). */
  delivery_id: string;
}

/**
 * The execution log per worker, ranked for paging. Every execution gets
 * `seq` = its rank in (created_at, id) order within the worker (ranks are
 * dense, so the highest is the worker's total): a page is a seq range and the
 * count one index descent. Attempts are recorded when they end, so a slow
 * attempt can be recorded after one that started later: it is then inserted
 * at its rank and the few newer rows shift up by one (bounded by the attempt
 * timeout). On PostgreSQL, recordings for one worker from several
 * transactions take a per-worker lock first, so two ranks are never computed
 * from the same state.
 */
export function executionsProjector(t: TableSet, options: { rememberNewest: boolean } = { rememberNewest: false }): Projection {
  const columns = '(worker_id, seq, id, created_at, duration_ms, error_message, request_status, response_status, task_id, task_title, url, delivery_id)';
  const newest = `SELECT seq, created_at, id FROM ${t.executions} WHERE worker_id = ? ORDER BY seq DESC LIMIT 1`;
  const predecessor = `SELECT seq FROM ${t.executions}
     WHERE worker_id = ? AND (created_at < ? OR (created_at = ? AND id < ?))
     ORDER BY seq DESC LIMIT 1`;
  // Two steps through negative values: uniqueness is checked row by row, so a plain seq + 1 could collide mid-update.
  const shiftOut = `UPDATE ${t.executions} SET seq = -(seq + 1) WHERE worker_id = ? AND seq >= ?`;
  const shiftIn = `UPDATE ${t.executions} SET seq = -seq WHERE worker_id = ? AND seq < 0`;
  const insert = `INSERT INTO ${t.executions} ${columns} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;
  // PostgreSQL, the usual case in one round trip: ranked after the worker's newest row when it is newer than that
  // row, else no row. (Casts: PostgreSQL types the parameters of a SELECT list by them, not by the target columns.)
  // Not on SQLite: an INSERT reading its own table goes through a temporary table there, slower than the two statements.
  const insertIfNewest = `INSERT INTO ${t.executions} ${columns}
     SELECT CAST(? AS text), COALESCE(MAX(n.seq), 0) + 1, CAST(? AS text), CAST(? AS text), CAST(? AS integer), CAST(? AS text), CAST(? AS text),
            CAST(? AS integer), CAST(? AS text), CAST(? AS text), CAST(? AS text), CAST(? AS text)
     FROM (SELECT seq, created_at, id FROM ${t.executions} WHERE worker_id = ? ORDER BY seq DESC LIMIT 1) AS n
     HAVING COUNT(*) = 0 OR MAX(n.created_at) < ? OR (MAX(n.created_at) = ? AND MAX(n.id) < ?)`;

  type Newest = { seq: number; created_at: string; id: string };
  const isAfter = (last: Newest | undefined, createdAt: string, id: string) => !last || createdAt > last.created_at || (createdAt === last.created_at && id > last.id);
  // Each worker's newest row as this projector last wrote it, when it is the tables' only writer (a rebuild): no read per attempt.
  const remembered = options.rememberNewest ? new Map<string, Newest>() : null;

  /** The rank of an execution older than the worker's newest: the newer rows move up one to make room. */
  const rankAmongOlder = async (tx: TxSql, workerId: string, createdAt: string, id: string): Promise<number> => {
    const rank = ((await tx.get<{ seq: number }>(predecessor, [workerId, createdAt, createdAt, id]))?.seq ?? 0) + 1;
    await tx.run(shiftOut, [workerId, rank]);
    await tx.run(shiftIn, [workerId]);
    return rank;
  };

  const rankOf = async (tx: TxSql, workerId: string, createdAt: string, id: string): Promise<number> => {
    const last = remembered?.get(workerId) ?? (await tx.get<Newest>(newest, [workerId]));
    if (isAfter(last, createdAt, id)) {
      const seq = (last?.seq ?? 0) + 1;
      remembered?.set(workerId, { seq, created_at: createdAt, id });
      return seq;
    }
    remembered?.set(workerId, { ...last!, seq: last!.seq + 1 }); // the newest row moves up one
    return rankAmongOlder(tx, workerId, createdAt, id);
  };

  return {
    handles: ['DeliveryAttempted'],
    async project(tx: TxSql, event: RecordedEvent<DomainEvent>): Promise<void> {
      if (event.type !== 'DeliveryAttempted') return; // narrows the type; routing already guarantees it
      const d = event.data;
      const row = [d.executionId, d.startedAt, d.durationMs, d.errorMessage, d.requestStatus, d.responseStatus, d.taskId, d.taskTitle, d.url, d.deliveryId];
      await lockWorker(tx, d.workerId);
      if (remembered === null && tx.dialect === 'postgres') {
        if ((await tx.run(insertIfNewest, [d.workerId, ...row, d.workerId, d.startedAt, d.startedAt, d.executionId])) === 1) return;
        await tx.run(insert, [d.workerId, await rankAmongOlder(tx, d.workerId, d.startedAt, d.executionId), ...row]);
        return;
      }
      await tx.run(insert, [d.workerId, await rankOf(tx, d.workerId, d.startedAt, d.executionId), ...row]);
    },
  };
}
