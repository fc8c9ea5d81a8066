import { EXECUTIONS_PAGE_SIZE, WORKERS_PAGE_SIZE, type WebhookExecution, type WebhookExecutionList } from '@handinger-webhooks/contracts';
import type { Sql } from '@handinger-webhooks/event-store';
import { webhookHealth, type WebhookHealth } from './health.js';
import type { ApiKeyRow } from './read-models/api-keys.js';
import type { ExecutionRow } from './read-models/executions.js';
import type { FailedDeliveryRow, RecoveryRow } from './read-models/recoveries.js';
import type { PortalSessionRow } from './read-models/portal-sessions.js';
import type { WebhookRow } from './read-models/webhooks.js';
import type { WorkerRow } from './read-models/workers.js';
import { LIVE_TABLES as t } from './tables.js';

/** An execution row as SPEC §3 shows it. */
export const toExecution = (row: ExecutionRow): WebhookExecution => ({
  id: row.id,
  createdAt: row.created_at,
  durationMs: row.duration_ms,
  errorMessage: row.error_message,
  requestStatus: row.request_status,
  responseStatus: row.response_status,
  taskId: row.task_id,
  taskTitle: row.task_title,
  url: row.url,
  workerId: row.worker_id,
});

/** The seq range of a page, newest first: page 1 holds the `EXECUTIONS_PAGE_SIZE` highest ranks. */
function pageRange(totalCount: number, page: number): { from: number; to: number } {
  const to = totalCount - (page - 1) * EXECUTIONS_PAGE_SIZE;
  return { from: Math.max(1, to - EXECUTIONS_PAGE_SIZE + 1), to };
}

/** The selection of a recovery (SPEC §8.4). */
export interface FailedRange {
  workerId: string;
  since: string;
  until: string;
  /** Failures recorded at or before this log position count. */
  upTo: number;
}
const FAILED_IN_RANGE = 'worker_id = ? AND first_attempted_at >= ? AND first_attempted_at < ? AND failed_position <= ?';
const failedParams = (r: FailedRange) => [r.workerId, r.since, r.until, r.upTo];

/** Reads inside a write transaction that decides from them lock the row on PostgreSQL, so a concurrent change waits for that transaction (SQLite's writer is exclusive anyway). */
const forShare = (sql: Sql, lock: boolean): string => (lock && sql.dialect === 'postgres' ? ' FOR SHARE' : '');

/**
 * What the API and the commands read, over the live read models. Every
 * method reads committed state through `sql` by default; commands pass their
 * transaction (and `lock` when they decide from the row).
 */
export class ReadModels {
  constructor(private readonly sql: Sql) {}

  /** A worker, deleted ones included (check `deleted_at`). */
  worker(workerId: string, options: { sql?: Sql; lock?: boolean } = {}): Promise<WorkerRow | undefined> {
    const sql = options.sql ?? this.sql;
    return sql.get<WorkerRow>(`SELECT * FROM ${t.workers} WHERE id = ?${forShare(sql, options.lock ?? false)}`, [workerId]);
  }

  /**
   * Whether the worker exists and is not deleted: what a command checks
   * before writing for it (one column, not the row: a whole row costs
   * better-sqlite3 ≈0.45 µs per column to build).
   */
  async isLiveWorker(workerId: string, options: { sql?: Sql; lock?: boolean } = {}): Promise<boolean> {
    const sql = options.sql ?? this.sql;
    const row = await sql.get<{ live: number }>(`SELECT 1 AS live FROM ${t.workers} WHERE id = ? AND deleted_at IS NULL${forShare(sql, options.lock ?? false)}`, [workerId]);
    return row !== undefined;
  }

  /**
   * One page of a creator's live workers, newest first. The count and the
   * page are ranges of the partial creator index (its live workers only):
   * they grow with that creator's workers, never with anyone else's.
   */
  async workersPage(owner: { organizationId: string; userId: string }, page: number): Promise<{ rows: WorkerRow[]; page: number; pageCount: number; totalCount: number }> {
    const where = `organization_id = ? AND user_id = ? AND deleted_at IS NULL`;
    const params = [owner.organizationId, owner.userId];
    const totalCount = Number((await this.sql.get<{ n: number }>(`SELECT COUNT(*) AS n FROM ${t.workers} WHERE ${where}`, params))!.n);
    const pageCount = Math.ceil(totalCount / WORKERS_PAGE_SIZE);
    if (page > pageCount) return { rows: [], page, pageCount, totalCount };
    const rows = await this.sql.all<WorkerRow>(`SELECT * FROM ${t.workers} WHERE ${where} ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?`, [
      ...params,
      WORKERS_PAGE_SIZE,
      (page - 1) * WORKERS_PAGE_SIZE,
    ]);
    return { rows, page, pageCount, totalCount };
  }

  /** The worker's current webhook, or undefined when none is configured. */
  webhook(workerId: string, options: { sql?: Sql; lock?: boolean } = {}): Promise<WebhookRow | undefined> {
    const sql = options.sql ?? this.sql;
    return sql.get<WebhookRow>(`SELECT * FROM ${t.webhooks} WHERE worker_id = ?${forShare(sql, options.lock ?? false)}`, [workerId]).then((row) => row && { ...row, generation: Number(row.generation) });
  }

  /** One page of a worker's executions, newest first: two B-tree descents whatever the page (ranks are dense: the highest is the total). */
  async executionsPage(workerId: string, page: number): Promise<WebhookExecutionList> {
    const total = await this.sql.get<{ total: number }>(`SELECT seq AS total FROM ${t.executions} WHERE worker_id = ? ORDER BY seq DESC LIMIT 1`, [workerId]);
    const totalCount = total?.total ?? 0;
    const pageCount = Math.ceil(totalCount / EXECUTIONS_PAGE_SIZE);
    if (page > pageCount) return { logs: [], page, pageCount, totalCount };
    const { from, to } = pageRange(totalCount, page);
    const rows = await this.sql.all<ExecutionRow>(`SELECT * FROM ${t.executions} WHERE worker_id = ? AND seq BETWEEN ? AND ? ORDER BY seq DESC`, [workerId, from, to]);
    return { logs: rows.map(toExecution), page, pageCount, totalCount };
  }

  /** One execution of the worker (`undefined` for another worker's or an unknown id). */
  execution(workerId: string, executionId: string, sql: Sql = this.sql): Promise<ExecutionRow | undefined> {
    return sql.get<ExecutionRow>(`SELECT * FROM ${t.executions} WHERE id = ? AND worker_id = ?`, [executionId, workerId]);
  }

  recovery(recoveryId: string, sql: Sql = this.sql): Promise<RecoveryRow | undefined> {
    return sql.get<RecoveryRow>(`SELECT * FROM ${t.recoveries} WHERE id = ?`, [recoveryId]);
  }

  /** Recoveries still resending (their scheduling has not ended). */
  recoveriesScheduling(sql: Sql = this.sql): Promise<RecoveryRow[]> {
    return sql.all<RecoveryRow>(`SELECT * FROM ${t.recoveries} WHERE resent IS NULL ORDER BY created_at, id`);
  }

  /** How many of the worker's notifications first attempted in [since, until) had ended in failure by log position `upTo`. */
  async failedCount(range: FailedRange, sql: Sql = this.sql): Promise<number> {
    const row = await sql.get<{ n: number }>(`SELECT COUNT(*) AS n FROM ${t.failedDeliveries} WHERE ${FAILED_IN_RANGE}`, failedParams(range));
    return Number(row!.n);
  }

  /** The first `limit` of them, oldest first (a resend takes each out, so the next call reads on). */
  failedBatch(range: FailedRange, limit: number, sql: Sql = this.sql): Promise<FailedDeliveryRow[]> {
    return sql.all<FailedDeliveryRow>(
      `SELECT * FROM ${t.failedDeliveries} WHERE ${FAILED_IN_RANGE} ORDER BY first_attempted_at, delivery_id LIMIT ?`,
      [...failedParams(range), limit],
    );
  }

  apiKeyByHash(keyHash: string): Promise<ApiKeyRow | undefined> {
    return this.sql.get<ApiKeyRow>(`SELECT * FROM ${t.apiKeys} WHERE key_hash = ?`, [keyHash]);
  }

  apiKeyById(keyId: string, sql: Sql = this.sql): Promise<ApiKeyRow | undefined> {
    return sql.get<ApiKeyRow>(`SELECT * FROM ${t.apiKeys} WHERE id = ?`, [keyId]);
  }

  apiKeys(): Promise<ApiKeyRow[]> {
    return this.sql.all<ApiKeyRow>(`SELECT * FROM ${t.apiKeys} ORDER BY created_at, id`);
  }

  /** Disabled webhooks and held notifications, all workers together (metrics, SPEC §10). */
  webhookHealth(): Promise<WebhookHealth> {
    return webhookHealth(this.sql);
  }

  /** A live portal session by the hash of its credential (expired ones too: check `expires_at`). */
  portalSessionByHash(credentialHash: string): Promise<PortalSessionRow | undefined> {
    return this.sql
      .get<PortalSessionRow>(`SELECT * FROM ${t.portalSessions} WHERE credential_hash = ?`, [credentialHash])
      .then((row) => row && { ...row, generation: Number(row.generation), read_only: Number(row.read_only) });
  }

  /** Whether any key was ever issued (a new database has none). */
  async hasApiKeys(sql: Sql = this.sql): Promise<boolean> {
    return (await sql.get(`SELECT 1 AS found FROM ${t.apiKeys} LIMIT 1`)) !== undefined;
  }
}
