import type { Database } from '@handinger-webhooks/event-store';
import { openSqliteDatabase } from '@handinger-webhooks/storage-sqlite';

/** Whether a `--db` value names a PostgreSQL database (SPEC §11) rather than a SQLite file. */
export const isPostgresUrl = (location: string): boolean => /^postgres(ql)?:\/\//i.test(location);

export interface StorageOptions {
  /** SQLite: WAL checkpoints on a thread of their own, for processes that run long or write much (`serve`, `deliver`, a rebuild, an import). */
  backgroundCheckpoints?: boolean;
}

/**
 * Opens the database a `--db` value names: a `postgres://` or
 * `postgresql://` URL is PostgreSQL (its driver is loaded only then),
 * anything else a SQLite file path.
 */
export async function openStorage(location: string, options: StorageOptions = {}): Promise<Database> {
  if (isPostgresUrl(location)) {
    const { openPostgresDatabase } = await import('@handinger-webhooks/storage-postgres');
    return openPostgresDatabase(location);
  }
  return openSqliteDatabase(location, { backgroundCheckpoints: options.backgroundCheckpoints });
}
