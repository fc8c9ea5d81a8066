import type { Statement } from 'better-sqlite3';
import type { SqliteDatabase } from './database.js';
import { isOwnerGone } from './lease-owner.js';

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

/** The end of the name range of a prefix: every name that starts with `prefix` sorts in [prefix, end). */
const prefixEnd = (prefix: string): string => prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);

/**
 * Time-limited claims on units of work (e.g. one delivery attempt). A lease
 * is taken only if free, expired, or already held by the same owner (which
 * extends it), so when a process dies mid-work its claims lapse and another
 * process picks the work up. A holder known to be dead (same machine, pid
 * gone: see `isOwnerGone`) loses its lease at once rather than at expiry.
 */
export class Leases {
  private readonly acquireStatement: Statement<[string, string, number, number]>;
  private readonly holderStatement: Statement<[string], { owner: string; expires_at: number }>;
  private readonly takeOverStatement: Statement<[string, number, string, string]>;
  private readonly releaseStatement: Statement<[string, string]>;
  private readonly nextExpiryStatement: Statement<[string, string, string, number], { at: number | null }>;
  private readonly purgeStatement: Statement<[string, string, number]>;

  constructor(db: SqliteDatabase) {
    this.acquireStatement = db.prepare(
      `INSERT INTO leases (name, owner, expires_at) VALUES (?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
       WHERE leases.expires_at <= ? OR leases.owner = excluded.owner`,
    );
    this.holderStatement = db.prepare('SELECT owner, expires_at FROM leases WHERE name = ?');
    this.takeOverStatement = db.prepare('UPDATE leases SET owner = ?, expires_at = ? WHERE name = ? AND owner = ?');
    this.releaseStatement = db.prepare('DELETE FROM leases WHERE name = ? AND owner = ?');
    this.nextExpiryStatement = db.prepare(
      'SELECT MIN(expires_at) AS at FROM leases WHERE name >= ? AND name < ? AND owner <> ? AND expires_at > ?',
    );
    this.purgeStatement = db.prepare('DELETE FROM leases WHERE name >= ? AND name < ? AND expires_at < ?');
  }

  /** Claims (or extends) `name` for `owner` until `nowMs + ttlMs`; false when another, living owner holds a live lease. */
  tryAcquire(name: string, owner: string, ttlMs: number, nowMs: number): boolean {
    if (this.acquireStatement.run(name, owner, nowMs + ttlMs, nowMs).changes === 1) return true;
    const holder = this.holderStatement.get(name);
    if (holder === undefined || !isOwnerGone(holder.owner)) return false;
    return this.takeOverStatement.run(owner, nowMs + ttlMs, name, holder.owner).changes === 1;
  }

  /** Who holds `name` and until when (epoch ms), live or lapsed; `undefined` when nobody does. */
  holder(name: string): { owner: string; expiresAt: number } | undefined {
    const row = this.holderStatement.get(name);
    return row && { owner: row.owner, expiresAt: row.expires_at };
  }

  release(name: string, owner: string): void {
    this.releaseStatement.run(name, owner);
  }

  /** When the first live lease named `prefix…` of another owner lapses (its work becomes claimable), or `null`. */
  nextExpiry(prefix: string, exceptOwner: string, nowMs: number): number | null {
    return this.nextExpiryStatement.get(prefix, prefixEnd(prefix), exceptOwner, nowMs)?.at ?? null;
  }

  /**
   * Deletes leases named `prefix…` that lapsed before `beforeMs`: a process
   * killed mid-work never releases its leases, and lapsed ones hold nothing,
   * so they would only pile up. Returns how many went.
   */
  purgeLapsed(prefix: string, beforeMs: number): number {
    return this.purgeStatement.run(prefix, prefixEnd(prefix), beforeMs).changes;
  }
}
