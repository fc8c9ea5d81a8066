import { sql, type Kysely, type Migration } from 'kysely';
import { APPEND_ONLY_TRIGGERS } from '../append-only.js';

/** The append-only log: one row per event, a global order, and at most one event per stream position. */
export const eventLog: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('events')
      .addColumn('global_position', 'integer', (c) => c.primaryKey())
      .addColumn('stream_id', 'text', (c) => c.notNull())
      .addColumn('stream_position', 'integer', (c) => c.notNull())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('data', 'text', (c) => c.notNull())
      .addColumn('metadata', 'text', (c) => c.notNull().defaultTo('{}'))
      .addColumn('recorded_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('events_stream').unique().on('events').columns(['stream_id', 'stream_position']).execute();
    // Append-only: the log is never edited, whatever code runs against the file.
    for (const ddl of Object.values(APPEND_ONLY_TRIGGERS)) await sql.raw(ddl).execute(db);
  },
};
