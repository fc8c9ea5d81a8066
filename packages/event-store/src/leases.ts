import { isOwnerGone } from './lease-owner.js';
import { timeOrNow, type Sql } from './sql.js';

/** The end of the name range of a prefix: every name that starts with `prefix` sorts in [prefix, end). */
const prefixEnd = (prefix: string): string => prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);

/**
 * Time-limited claims on a named job (a rebuild, a recovery). A lease is
 * taken only if free, expired, or already held by the same owner (which
 * extends it), so when a process dies mid-work its lease lapses and another
 * process takes the work over; a holder known to be dead (same machine,
 * pid gone: see `isOwnerGone`) loses it at once. Times are the database's
 * clock unless the caller passes one (`nowMs`, for tests).
 */
export class Leases {
  /** Claims (or extends) `name` for `owner` for `ttlMs`; false when another, living owner holds a live lease. */
  async tryAcquire(sql: Sql, name: string, owner: string, ttlMs: number, nowMs?: number): Promise<boolean> {
    const now = timeOrNow(sql.dialect);
    const taken = await sql.run(
      `INSERT INTO leases (name, owner, expires_at) VALUES (?, ?, ${now} + ?)
       ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
       WHERE leases.expires_at <= ${now} OR leases.owner = excluded.owner`,
      [name, owner, nowMs ?? null, ttlMs, nowMs ?? null],
    );
    if (taken === 1) return true;
    const holder = await this.holder(sql, name);
    if (holder === undefined || !isOwnerGone(holder.owner)) return false;
    return (await sql.run(`UPDATE leases SET owner = ?, expires_at = ${now} + ? WHERE name = ? AND owner = ?`, [owner, nowMs ?? null, ttlMs, name, holder.owner])) === 1;
  }

  /** Who holds `name` and until when (epoch ms), live or lapsed; `undefined` when nobody does. */
  async holder(sql: Sql, name: string): Promise<{ owner: string; expiresAt: number } | undefined> {
    const row = await sql.get<{ owner: string; expires_at: number }>('SELECT owner, expires_at FROM leases WHERE name = ?', [name]);
    return row && { owner: row.owner, expiresAt: Number(row.expires_at) };
  }

  async release(sql: Sql, name: string, owner: string): Promise<void> {
    await sql.run('DELETE FROM leases WHERE name = ? AND owner = ?', [name, owner]);
  }

  /** Names starting with `prefix` whose lease is free or lapsed, among `names` — e.g. which recoveries need a process. */
  async lapsed(sql: Sql, prefix: string, nowMs?: number): Promise<string[]> {
    const rows = await sql.all<{ name: string }>(`SELECT name FROM leases WHERE name >= ? AND name < ? AND expires_at <= ${timeOrNow(sql.dialect)}`, [
      prefix,
      prefixEnd(prefix),
      nowMs ?? null,
    ]);
    return rows.map((row) => row.name);
  }
}
