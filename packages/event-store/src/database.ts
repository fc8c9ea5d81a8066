import type { Kysely } from 'kysely';
import type { Sql, SqlDialect, TxSql } from './sql.js';

/** Raised in this process (only) after every write transaction it commits: for waiting on "something was written". */
export const COMMIT_SIGNAL = 'commit';

/** One schema migration: Kysely's schema builder, told which dialect it runs on. */
export type SchemaMigration = (db: Kysely<any>, dialect: SqlDialect) => Promise<void>;

/**
 * A database as the storage packages use it, whatever the backend: reads of
 * committed state, write transactions, migrations, and commit signals.
 * Implemented by `storage-sqlite` (better-sqlite3) and `storage-postgres`
 * (pg); everything above it is written once.
 */
export interface Database {
  readonly dialect: SqlDialect;
  /** Where it is, for messages and logs: a file path, or a URL without its password. */
  readonly location: string;
  /** Reads committed state (a read right after a write transaction resolved sees that write). */
  readonly sql: Sql;
  /**
   * Runs `work` in a write transaction and resolves after COMMIT (never
   * before: nothing is acknowledged that is not durable). A throw rolls
   * back `work` alone. On SQLite, calls made in the same turn of the event
   * loop share one transaction (group commit); on PostgreSQL each call has
   * its own transaction on a pooled connection.
   *
   * `work` may run more than once before its transaction commits (on
   * PostgreSQL after a serialization failure or a deadlock; on SQLite when
   * another work of its group commit failed after writing): only the last
   * run commits, so `work` must change nothing outside the transaction and
   * hand what it found over only through its result.
   */
  transaction<T>(work: (tx: TxSql) => Promise<T>): Promise<T>;
  /**
   * Runs `work` over one consistent, read-only snapshot of the database
   * (an export streams the whole log from one point in time). It holds a
   * connection for its duration.
   */
  readSnapshot<T>(work: (sql: Sql) => Promise<T>): Promise<T>;
  /**
   * Brings a set of migrations (named in order) up to date, once however
   * many processes start together.
   */
  migrate(set: string, migrations: Readonly<Record<string, SchemaMigration>>): Promise<void>;
  /** Calls `listener` when `signal` is raised by a commit, in this process or (PostgreSQL) another. Returns an unsubscribe. */
  onSignal(signal: string, listener: () => void): () => void;
  /**
   * Rewrites the storage so no freed page keeps data that was deleted or
   * overwritten (SQLite: VACUUM, then the WAL truncated); a no-op where the
   * server owns the files (PostgreSQL).
   */
  compact(): Promise<void>;
  /** Whether the database answers now (for readiness). */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}
