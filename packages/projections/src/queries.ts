import { EXECUTIONS_PAGE_SIZE, type WebhookExecution, type WebhookExecutionList } from '@handinger-webhooks/contracts';
import type { SqliteDatabase } from '@handinger-webhooks/event-store';
import type { ApiKeyRow } from './read-models/api-keys.js';
import type { ExecutionRow } from './read-models/executions.js';
import type { WebhookRow } from './read-models/webhooks.js';
import type { WorkerRow } from './read-models/workers.js';
import { LIVE_TABLES as t } from './tables.js';

const toExecution = (row: ExecutionRow): WebhookExecution => ({
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

/**
 * What the API and delivery read, as prepared statements over the live read
 * models. Cheap to construct once per process; statements survive a rebuild's
 * swap (SQLite re-prepares them against the new tables).
 */
export class ReadModels {
  private readonly s;

  constructor(db: SqliteDatabase) {
    this.s = {
      worker: db.prepare<[string], WorkerRow>(`SELECT * FROM ${t.workers} WHERE id = ?`),
      webhook: db.prepare<[string], WebhookRow>(`SELECT * FROM ${t.webhooks} WHERE worker_id = ?`),
      executionCount: db.prepare<[string], { total: number }>(
        `SELECT seq AS total FROM ${t.executions} WHERE worker_id = ? ORDER BY seq DESC LIMIT 1`,
      ),
      executionRange: db.prepare<[string, number, number], ExecutionRow>(
        `SELECT * FROM ${t.executions} WHERE worker_id = ? AND seq BETWEEN ? AND ? ORDER BY seq DESC`,
      ),
      apiKeyByHash: db.prepare<[string], ApiKeyRow>(`SELECT * FROM ${t.apiKeys} WHERE key_hash = ?`),
      apiKeyById: db.prepare<[string], ApiKeyRow>(`SELECT * FROM ${t.apiKeys} WHERE id = ?`),
      apiKeys: db.prepare<[], ApiKeyRow>(`SELECT * FROM ${t.apiKeys} ORDER BY created_at, id`),
      anyApiKey: db.prepare<[], { found: 1 }>(`SELECT 1 AS found FROM ${t.apiKeys} LIMIT 1`),
    };
  }

  /** A worker, deleted ones included (check `deleted_at`). */
  worker(workerId: string): WorkerRow | undefined {
    return this.s.worker.get(workerId);
  }

  /** The worker's current webhook, or undefined when none is configured. */
  webhook(workerId: string): WebhookRow | undefined {
    return this.s.webhook.get(workerId);
  }

  /** One page of a worker's executions, newest first: two B-tree descents whatever the page (ranks are dense: the highest is the total). */
  executionsPage(workerId: string, page: number): WebhookExecutionList {
    const totalCount = this.s.executionCount.get(workerId)?.total ?? 0;
    const pageCount = Math.ceil(totalCount / EXECUTIONS_PAGE_SIZE);
    if (page > pageCount) return { logs: [], page, pageCount, totalCount };
    const { from, to } = pageRange(totalCount, page);
    return { logs: this.s.executionRange.all(workerId, from, to).map(toExecution), page, pageCount, totalCount };
  }

  apiKeyByHash(keyHash: string): ApiKeyRow | undefined {
    return this.s.apiKeyByHash.get(keyHash);
  }

  apiKeyById(keyId: string): ApiKeyRow | undefined {
    return this.s.apiKeyById.get(keyId);
  }

  apiKeys(): ApiKeyRow[] {
    return this.s.apiKeys.all();
  }

  /** Whether any key was ever issued (a new database has none). */
  hasApiKeys(): boolean {
    return this.s.anyApiKey.get() !== undefined;
  }
}
