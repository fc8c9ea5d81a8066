import { sql, type Kysely } from 'kysely';
import type { SqlDialect } from '../sql.js';
import { APPEND_ONLY_TRIGGERS, POSTGRES_APPEND_ONLY } from '../append-only.js';

/**
 * The append-only log: one row per event, a global order, and at most one
 * event per stream position. On PostgreSQL each event also carries the id of
 * the transaction that wrote it (`tx_id`), which log followers order by.
 */
export async function eventLog(db: Kysely<any>, dialect: SqlDialect): Promise<void> {
  let table = db.schema.createTable('events');
  table =
    dialect === 'sqlite'
      ? table.addColumn('global_position', 'integer', (c) => c.primaryKey())
      : table
          .addColumn('global_position', 'bigint', (c) => c.primaryKey().generatedByDefaultAsIdentity())
          .addColumn('tx_id', sql`xid8`, (c) => c.notNull().defaultTo(sql`pg_current_xact_id()`));
  await table
    .addColumn('stream_id', 'text', (c) => c.notNull())
    .addColumn('stream_position', 'integer', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('data', 'text', (c) => c.notNull())
    .addColumn('metadata', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('recorded_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('events_stream').unique().on('events').columns(['stream_id', 'stream_position']).execute();
  if (dialect === 'postgres') {
    await db.schema.createIndex('events_tx').on('events').columns(['tx_id', 'global_position']).execute();
    for (const ddl of POSTGRES_APPEND_ONLY) await sql.raw(ddl).execute(db);
  } else {
    // Append-only: the log is never edited, whatever code runs against the file.
    for (const ddl of Object.values(APPEND_ONLY_TRIGGERS)) await sql.raw(ddl).execute(db);
  }
}
