import type { Statement } from 'better-sqlite3';
import type { SqliteDatabase } from './database.js';

/**
 * Durable "handled up to global position N" marks, one per subscriber. Store
 * the checkpoint in the same transaction as the work it covers, and the work
 * happens exactly once across crashes.
 */
export class Checkpoints {
  private readonly getStatement: Statement<[string], { position: number }>;
  private readonly setStatement: Statement<[string, number, string]>;

  constructor(db: SqliteDatabase) {
    this.getStatement = db.prepare('SELECT position FROM checkpoints WHERE name = ?');
    this.setStatement = db.prepare(
      `INSERT INTO checkpoints (name, position, updated_at) VALUES (?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at`,
    );
  }

  /** The last position `name` handled, 0 when it never ran. */
  get(name: string): number {
    return this.getStatement.get(name)?.position ?? 0;
  }

  set(name: string, position: number, now = new Date()): void {
    this.setStatement.run(name, position, now.toISOString());
  }
}

/**
 * Time-limited claims on units of work (e.g. one delivery attempt). A lease
 * is taken only if free or expired, so when a process dies mid-work its
 * claims lapse and another process picks the work up.
 */
export class Leases {
  private readonly acquireStatement: Statement<[string, string, number, number]>;
  private readonly releaseStatement: Statement<[string, string]>;

  constructor(db: SqliteDatabase) {
    this.acquireStatement = db.prepare(
      `INSERT INTO leases (name, owner, expires_at) VALUES (?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
       WHERE leases.expires_at <= ?`,
    );
    this.releaseStatement = db.prepare('DELETE FROM leases WHERE name = ? AND owner = ?');
  }

  /** Claims `name` for `owner` until `nowMs + ttlMs`; false when someone else holds a live lease. */
  tryAcquire(name: string, owner: string, ttlMs: number, nowMs: number): boolean {
    return this.acquireStatement.run(name, owner, nowMs + ttlMs, nowMs).changes === 1;
  }

  release(name: string, owner: string): void {
    this.releaseStatement.run(name, owner);
  }
}
