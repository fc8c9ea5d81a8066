import type { TxSql } from '@handinger-webhooks/event-store';

/**
 * Serializes, on PostgreSQL, the transactions that change one worker's
 * executions or move its deliveries as a whole (a recording ranks its
 * execution; a disable, enable or removal moves every queue row of the
 * worker): the second waits for the first to commit, then reads what it
 * wrote. SQLite has one writer at a time already.
 */
export async function lockWorker(tx: TxSql, workerId: string): Promise<void> {
  if (tx.dialect === 'postgres') await tx.run('SELECT pg_advisory_xact_lock(hashtextextended(?, 1))', [`executions:${workerId}`]);
}
