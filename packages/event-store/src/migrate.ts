import { Kysely, Migrator, SqliteDialect, type Migration } from 'kysely';
import type { SqliteDatabase } from './database.js';
import { eventLog } from './migrations/001-event-log.js';
import { processors } from './migrations/002-processors.js';
import { storeMeta } from './migrations/003-store-meta.js';
import type { EventStoreTables } from './schema.js';

/** In order; names sort as they apply. Bundled as code, so the single executable needs no migration files. */
const MIGRATIONS: Record<string, Migration> = {
  '001-event-log': eventLog,
  '002-processors': processors,
  '003-store-meta': storeMeta,
};

/** A Kysely instance over an open better-sqlite3 database, for schema work and cold queries. */
export function kyselyFor<Tables = EventStoreTables>(db: SqliteDatabase): Kysely<Tables> {
  return new Kysely<Tables>({ dialect: new SqliteDialect({ database: db }) });
}

const isBusy = (error: unknown): boolean =>
  error instanceof Error && 'code' in error && String((error as { code: unknown }).code).startsWith('SQLITE_BUSY');

/**
 * Brings the event store's schema up to date. Safe when several processes
 * start on one file at once: the loser of SQLite's write lock retries.
 */
export async function migrateEventStore(db: SqliteDatabase): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await migrateOnce(db);
    } catch (error) {
      const cause = error instanceof Error ? error.cause : undefined;
      if (attempt >= 20 || !(isBusy(error) || isBusy(cause))) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
    }
  }
}

async function migrateOnce(db: SqliteDatabase): Promise<void> {
  const kysely = kyselyFor(db);
  const migrator = new Migrator({ db: kysely, provider: { getMigrations: async () => MIGRATIONS } });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    throw new Error(`event store migration ${failed?.migrationName ?? ''} failed: ${String(error)}`, { cause: error });
  }
}
