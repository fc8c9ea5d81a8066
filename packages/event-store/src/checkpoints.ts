import type { LogCursor } from './log-cursor.js';
import { LOG_START } from './log-cursor.js';
import type { Sql } from './sql.js';

/**
 * Durable "handled up to here" marks, one per follower of the log. Store a
 * checkpoint in the same transaction as the work it covers, and the work
 * happens exactly once across crashes; `compareAndSet` lets several
 * processes follow the same log without handling an event twice.
 */
export class Checkpoints {
  /** Where `name` got to, `LOG_START` when it never ran. */
  async get(sql: Sql, name: string): Promise<LogCursor> {
    const row = await sql.get<{ position: string | number }>('SELECT position FROM checkpoints WHERE name = ?', [name]);
    return row === undefined ? LOG_START : String(row.position);
  }

  async set(sql: Sql, name: string, cursor: LogCursor, now = new Date()): Promise<void> {
    await sql.run(
      `INSERT INTO checkpoints (name, position, updated_at) VALUES (?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at`,
      [name, cursor, now.toISOString()],
    );
  }

  /** Moves `name` from `expected` to `next`; false when another process moved it first. */
  async compareAndSet(sql: Sql, name: string, expected: LogCursor, next: LogCursor, now = new Date()): Promise<boolean> {
    if (expected === LOG_START) {
      const inserted = await sql.run('INSERT INTO checkpoints (name, position, updated_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING', [name, next, now.toISOString()]);
      if (inserted === 1) return true;
    }
    return (await sql.run('UPDATE checkpoints SET position = ?, updated_at = ? WHERE name = ? AND position = ?', [next, now.toISOString(), name, expected])) === 1;
  }
}
