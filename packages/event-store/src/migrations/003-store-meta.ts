import type { Kysely } from 'kysely';

/** Facts about the store itself rather than the domain, e.g. the check that the secret key is the right one. */
export async function storeMeta(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('store_meta')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .execute();
}
