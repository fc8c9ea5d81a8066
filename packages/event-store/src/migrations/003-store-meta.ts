import type { Kysely, Migration } from 'kysely';

/** Facts about the store itself rather than the domain, e.g. the check that the secret key is the right one. */
export const storeMeta: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('store_meta')
      .addColumn('key', 'text', (c) => c.primaryKey())
      .addColumn('value', 'text', (c) => c.notNull())
      .execute();
  },
};
