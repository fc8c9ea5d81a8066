import { Kysely, Migrator, SqliteDialect, type Migration } from 'kysely';
import type { Database, SchemaMigration, Sql, TxSql } from '@handinger-webhooks/event-store';
import { BackgroundCheckpoints } from './background-checkpoints.js';
import { ConnectionSql } from './connection-sql.js';
import { GroupCommit } from './group-commit.js';
import { openConnection, type OpenDatabaseOptions, type SqliteConnection } from './open-file.js';

export interface SqliteDatabaseOptions extends OpenDatabaseOptions {
  /** WAL checkpoints on a thread of their own (long-running processes: `serve`, `deliver`); see `BackgroundCheckpoints`. */
  backgroundCheckpoints?: boolean;
}

const isBusy = (error: unknown): boolean =>
  error instanceof Error && 'code' in error && String((error as { code: unknown }).code).startsWith('SQLITE_BUSY');

/**
 * The `Database` port on one SQLite file: a writer connection for write
 * transactions (group-committed), a reader connection for everything else
 * (WAL: readers see the last commit and never wait for the writer), and
 * in-process signals after commits. Other processes on the same file see
 * commits at once but get no signal: they poll.
 */
export class SqliteDatabase implements Database {
  readonly dialect = 'sqlite' as const;
  readonly sql: Sql;
  /** The writer connection, for SQLite-only maintenance (VACUUM, checkpoints, integrity checks) and tests. */
  readonly writer: SqliteConnection;
  private readonly writerSql: ConnectionSql;
  private readonly reader: SqliteConnection;
  private readonly commit: GroupCommit;
  private readonly listeners = new Map<string, Set<() => void>>();
  /** The checkpointer thread, when asked for and available. */
  readonly checkpointer: BackgroundCheckpoints | null;

  constructor(
    readonly location: string,
    options: SqliteDatabaseOptions = {},
  ) {
    this.writer = openConnection(location, options);
    // An in-memory database is one connection's own: it reads through the writer.
    this.reader = location === ':memory:' ? this.writer : openConnection(location, options);
    this.writerSql = new ConnectionSql(this.writer);
    this.sql = this.reader === this.writer ? this.writerSql : new ConnectionSql(this.reader);
    this.commit = new GroupCommit(this.writerSql, (signals) => this.raise(signals));
    this.checkpointer = options.backgroundCheckpoints && location !== ':memory:' && !options.readonly ? BackgroundCheckpoints.start(location, this.writer) : null;
  }

  transaction<T>(work: (tx: TxSql) => Promise<T>): Promise<T> {
    return this.commit.run(work);
  }

  /** A read transaction on the reader connection: WAL keeps its snapshot while writers go on. */
  async readSnapshot<T>(work: (sql: Sql) => Promise<T>): Promise<T> {
    const snapshot = new ConnectionSql(this.reader);
    this.reader.exec('BEGIN');
    try {
      // The snapshot starts at the first read.
      await snapshot.get('SELECT 1 AS ok FROM sqlite_master LIMIT 1');
      return await work(snapshot);
    } finally {
      this.reader.exec('COMMIT');
    }
  }

  /** Runs Kysely migrations on the writer; the loser of a start-up race for the write lock waits and retries. */
  async migrate(set: string, migrations: Readonly<Record<string, SchemaMigration>>): Promise<void> {
    const kysely = new Kysely<unknown>({ dialect: new SqliteDialect({ database: this.writer }) });
    const provided: Record<string, Migration> = Object.fromEntries(Object.entries(migrations).map(([name, up]) => [name, { up: (db: Kysely<any>) => up(db, 'sqlite') }]));
    // The event store's set keeps Kysely's default table names (databases made before other sets existed).
    const tables = set === 'event-store' ? {} : { migrationTableName: `${set}_migration`, migrationLockTableName: `${set}_migration_lock` };
    const migrator = new Migrator({ db: kysely, provider: { getMigrations: async () => provided }, ...tables });
    for (let attempt = 1; ; attempt++) {
      const { error, results } = await migrator.migrateToLatest();
      const failed = results?.find((r) => r.status === 'Error');
      if (!error && !failed) return;
      const cause = error instanceof Error ? error.cause : undefined;
      if (attempt >= 20 || !(isBusy(error) || isBusy(cause))) {
        throw new Error(`${set} migration ${failed?.migrationName ?? ''} failed: ${String(error)}`, { cause: error });
      }
      await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
    }
  }

  onSignal(signal: string, listener: () => void): () => void {
    let set = this.listeners.get(signal);
    if (set === undefined) this.listeners.set(signal, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  private raise(signals: ReadonlySet<string>): void {
    for (const signal of signals) for (const listener of this.listeners.get(signal) ?? []) listener();
  }

  async compact(): Promise<void> {
    this.writer.exec('VACUUM');
    this.writer.pragma('wal_checkpoint(TRUNCATE)');
  }

  async ping(): Promise<boolean> {
    try {
      await this.sql.get('SELECT 1 AS ok');
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    await this.checkpointer?.stop();
    if (this.reader !== this.writer && this.reader.open) this.reader.close();
    if (this.writer.open) this.writer.close();
  }
}

/** Opens a SQLite database file (created owner-only with its folder if missing), or `:memory:`. */
export function openSqliteDatabase(path: string, options: SqliteDatabaseOptions = {}): SqliteDatabase {
  return new SqliteDatabase(path, options);
}
