import type { Kysely } from 'kysely';
import type { SqlDialect } from '../sql.js';

/**
 * What background processors need beside the log: a durable checkpoint per
 * follower (where it got to in the log) and time-limited leases on named
 * jobs, so a crashed process's work is taken over once its lease lapses.
 */
export async function processors(db: Kysely<any>, dialect: SqlDialect): Promise<void> {
  await db.schema
    .createTable('checkpoints')
    .addColumn('name', 'text', (c) => c.primaryKey())
    // A log cursor (text on PostgreSQL; SQLite databases made before cursors keep an integer column, read as text).
    .addColumn('position', dialect === 'sqlite' ? 'integer' : 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('leases')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('owner', 'text', (c) => c.notNull())
    .addColumn('expires_at', dialect === 'sqlite' ? 'integer' : 'bigint', (c) => c.notNull())
    .execute();
}
