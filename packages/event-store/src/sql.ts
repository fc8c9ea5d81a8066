/**
 * The one way packages talk to a database: SQL text with `?` placeholders
 * and positional parameters, run by a driver (storage-sqlite,
 * storage-postgres). A package writes SQL only against the tables it owns;
 * most statements are the same on both backends, and where the dialects
 * differ the owner branches on `dialect`, in one place per statement.
 */

export type SqlDialect = 'sqlite' | 'postgres';

/** What a parameter may be: text, numbers, null, bytes, or (PostgreSQL `ANY(?)`) a list of text. */
export type SqlParam = string | number | bigint | boolean | null | Buffer | readonly string[] | readonly number[];

export interface Sql {
  readonly dialect: SqlDialect;
  /** Runs a statement; resolves with the number of rows it changed. */
  run(text: string, params?: readonly SqlParam[]): Promise<number>;
  /** The first row, or `undefined`. */
  get<Row>(text: string, params?: readonly SqlParam[]): Promise<Row | undefined>;
  all<Row>(text: string, params?: readonly SqlParam[]): Promise<Row[]>;
  /**
   * Runs an INSERT of at most one row; resolves with the new row's key, or
   * `null` when it inserted none (`ON CONFLICT DO NOTHING`). On SQLite the
   * key is the rowid (an `INTEGER PRIMARY KEY`), which SQLite hands back
   * without a `RETURNING` clause (one costs a temporary result table per
   * row); on PostgreSQL it is the first column of the row the statement's
   * `RETURNING` gives, so the caller adds that clause there.
   */
  insert(text: string, params?: readonly SqlParam[]): Promise<number | null>;
}

/** A write transaction's connection. */
export interface TxSql extends Sql {
  /**
   * Once this transaction has committed, raise `signal`: this process's
   * listeners are called, and on PostgreSQL other processes are notified
   * (LISTEN/NOTIFY, coalesced, sent outside the transaction). A hint that
   * work may be waiting; polling stays the truth.
   */
  signalAfterCommit(signal: string): void;
}

/**
 * `expr IN (…values)` as one parameter: SQLite reads a JSON array with
 * `json_each`, PostgreSQL an array (`text[]`, or `bigint[]` for numbers).
 * Pair it with `listParam`. Both use an index on `expr`.
 */
export function inList(dialect: SqlDialect, expr: string, type: 'text' | 'bigint' = 'text'): string {
  return dialect === 'sqlite' ? `${expr} IN (SELECT value FROM json_each(?))` : `${expr} = ANY(CAST(? AS ${type}[]))`;
}

/** `expr NOT IN (…values)` as one parameter (see `inList`). */
export function notInList(dialect: SqlDialect, expr: string): string {
  return dialect === 'sqlite' ? `${expr} NOT IN (SELECT value FROM json_each(?))` : `NOT (${expr} = ANY(CAST(? AS text[])))`;
}

/** The parameter for `inList` / `notInList`. */
export function listParam(dialect: SqlDialect, values: readonly string[] | readonly number[]): SqlParam {
  return dialect === 'sqlite' ? JSON.stringify(values) : values;
}

/**
 * The database's clock in epoch milliseconds, as SQL: claims and leases
 * shared by several machines compare against one clock, the database's,
 * not each machine's.
 */
export function nowMs(dialect: SqlDialect): string {
  return dialect === 'sqlite' ? "CAST(unixepoch('subsec') * 1000 AS INTEGER)" : 'CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS bigint)';
}

/** `?` when the caller passes a time (tests, and SQLite-only callers that know it), else the database's clock. */
export function timeOrNow(dialect: SqlDialect): string {
  return `COALESCE(CAST(? AS bigint), ${nowMs(dialect)})`;
}

/**
 * Serializes transactions that take the same named lock, until they end
 * (PostgreSQL's `pg_advisory_xact_lock`). On SQLite every write
 * transaction is exclusive already: nothing to do.
 */
export async function lockForTransaction(tx: TxSql, name: string): Promise<void> {
  if (tx.dialect === 'postgres') await tx.run('SELECT pg_advisory_xact_lock(hashtextextended(?, 0))', [name]);
}
