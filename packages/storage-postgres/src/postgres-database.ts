import { Kysely, Migrator, PostgresDialect, type Migration } from 'kysely';
import pg from 'pg';
import { COMMIT_SIGNAL, DatabaseOpenError, type Database, type SchemaMigration, type Sql, type TxSql } from '@handinger-webhooks/event-store';
import { redactUrl } from './location.js';
import { PgSql, PgTxSql } from './pool-sql.js';
import { SignalChannel } from './signal-channel.js';

export interface PostgresOptions {
  /** Connections in this process's pool. Default 10. */
  poolSize?: number;
}

const ignoreConnectionError = (): void => {};

/** SQLSTATEs a transaction is simply run again for. */
const RETRYABLE = new Set(['40001', '40P01']); // serialization_failure, deadlock_detected
const MAX_TRANSACTION_ATTEMPTS = 8;

/** 64-bit integers (counts, epoch ms, positions) as JS numbers: every value here stays far below 2^53. */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.INT8 ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

/** One line for a connection that failed at start: what went wrong, never the password. */
function describeConnectFailure(location: string, error: unknown): string {
  const e = error as { code?: string; message?: string };
  const reasons: Record<string, string> = {
    ECONNREFUSED: 'connection refused (is PostgreSQL running there?)',
    ENOENT: 'no server socket there (is PostgreSQL running?)',
    ENOTFOUND: 'host not found',
    ETIMEDOUT: 'timed out',
    '28P01': 'password authentication failed',
    '28000': 'authentication refused',
    '3D000': 'the database does not exist (create it first)',
  };
  return `cannot connect to PostgreSQL at ${location}: ${(e.code && reasons[e.code]) ?? e.message ?? String(error)}`;
}

/**
 * The `Database` port on PostgreSQL (13 or newer): one pg `Pool` per
 * process; statements are named and prepared once per connection; each
 * write transaction has a connection of its own and is run again on a
 * serialization failure or deadlock; signals after commits reach this
 * process at once and others through LISTEN/NOTIFY.
 */
export class PostgresDatabase implements Database {
  readonly dialect = 'postgres' as const;
  readonly location: string;
  readonly sql: PgSql;
  readonly pool: pg.Pool;
  private readonly channel: SignalChannel;
  private closed = false;

  constructor(url: string, options: PostgresOptions = {}) {
    this.location = redactUrl(url);
    this.pool = new pg.Pool({ connectionString: url, max: options.poolSize ?? 10, types, connectionTimeoutMillis: 10_000, idleTimeoutMillis: 30_000 });
    // An idle connection that breaks (the server restarted) is replaced on next use; without a listener pg would crash the process.
    this.pool.on('error', () => {});
    this.sql = new PgSql(this.pool);
    this.channel = new SignalChannel({ connectionString: url, types });
  }

  /** Checks that the server answers (and the database exists), as one clear error naming where. */
  async connect(): Promise<void> {
    try {
      await this.pool.query('SELECT 1');
    } catch (error) {
      await this.close();
      throw new DatabaseOpenError(this.location, describeConnectFailure(this.location, error), { cause: error });
    }
  }

  /**
   * A pooled connection for one unit of work. A connection that breaks
   * while checked out (the server went away) emits 'error', which would
   * crash the process without a listener: the failing query reports it.
   */
  private async checkOut(): Promise<pg.PoolClient> {
    const client = await this.pool.connect();
    client.on('error', ignoreConnectionError);
    return client;
  }

  private checkIn(client: pg.PoolClient, broken?: unknown): void {
    client.off('error', ignoreConnectionError);
    client.release(broken as Error | undefined);
  }

  async transaction<T>(work: (tx: TxSql) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const signals = new Set<string>();
      const client = await this.checkOut();
      let broken: unknown;
      try {
        await client.query('BEGIN');
        const result = await work(new PgTxSql(client, signals));
        // After an error PostgreSQL answers COMMIT with ROLLBACK instead of failing: that is a failure too.
        const committed = await client.query('COMMIT');
        if (committed.command !== 'COMMIT') throw new Error('the transaction was rolled back by an earlier error');
        if (signals.size > 0) this.channel.raise(signals);
        this.channel.raiseHere(COMMIT_SIGNAL);
        return result;
      } catch (error) {
        try {
          await client.query('ROLLBACK');
        } catch (rollbackError) {
          broken = rollbackError; // the connection itself is gone: do not return it to the pool
        }
        const code = (error as { code?: string }).code;
        if (code === undefined || !RETRYABLE.has(code) || attempt >= MAX_TRANSACTION_ATTEMPTS) throw error;
        await new Promise((resolve) => setTimeout(resolve, Math.min(100, 2 ** attempt) * Math.random()));
      } finally {
        this.checkIn(client, broken);
      }
    }
  }

  /** A REPEATABLE READ, READ ONLY transaction on one pooled connection. */
  async readSnapshot<T>(work: (sql: Sql) => Promise<T>): Promise<T> {
    const client = await this.checkOut();
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const result = await work(new PgSql(client));
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      this.checkIn(client);
    }
  }

  /** Kysely's migrator over the pool; it serializes concurrent starts with its own lock. */
  async migrate(set: string, migrations: Readonly<Record<string, SchemaMigration>>): Promise<void> {
    const kysely = new Kysely<unknown>({ dialect: new PostgresDialect({ pool: this.pool }) });
    const provided: Record<string, Migration> = Object.fromEntries(Object.entries(migrations).map(([name, up]) => [name, { up: (db: Kysely<any>) => up(db, 'postgres') }]));
    const tables = set === 'event-store' ? {} : { migrationTableName: `${set}_migration`, migrationLockTableName: `${set}_migration_lock` };
    const { error, results } = await new Migrator({ db: kysely, provider: { getMigrations: async () => provided }, ...tables }).migrateToLatest();
    const failed = results?.find((r) => r.status === 'Error');
    if (error || failed) throw new Error(`${set} migration ${failed?.migrationName ?? ''} failed: ${String(error)}`, { cause: error });
  }

  onSignal(signal: string, listener: () => void): () => void {
    return this.channel.listen(signal, listener, signal === COMMIT_SIGNAL);
  }

  async compact(): Promise<void> {
    // The server manages its own files; dead tuples are vacuumed by autovacuum.
  }

  async ping(): Promise<boolean> {
    try {
      await this.pool.query('SELECT 1');
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.channel.close();
    await this.pool.end();
  }
}

/** Opens a PostgreSQL database by URL and checks that it answers. @throws DatabaseOpenError */
export async function openPostgresDatabase(url: string, options: PostgresOptions = {}): Promise<PostgresDatabase> {
  const database = new PostgresDatabase(url, options);
  await database.connect();
  return database;
}
