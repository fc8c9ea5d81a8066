import type { Kysely, Migration } from 'kysely';

/**
 * What background processors need beside the log: a durable checkpoint per
 * subscriber (the last global position it handled) and time-limited leases on
 * units of work, so a crashed process's work is picked up once the lease expires.
 */
export const processors: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('checkpoints')
      .addColumn('name', 'text', (c) => c.primaryKey())
      .addColumn('position', 'integer', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('leases')
      .addColumn('name', 'text', (c) => c.primaryKey())
      .addColumn('owner', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'integer', (c) => c.notNull())
      .execute();
  },
};
