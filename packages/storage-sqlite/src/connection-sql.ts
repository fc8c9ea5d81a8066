import type { Statement } from 'better-sqlite3';
import type { Sql, SqlParam, TxSql } from '@handinger-webhooks/event-store';
import type { SqliteConnection } from './open-file.js';

/** better-sqlite3 takes no booleans (SQLite has none): 1 and 0, as the read models store them. */
const bind = (params: readonly SqlParam[]): unknown[] => params.map((p) => (typeof p === 'boolean' ? (p ? 1 : 0) : p));

/**
 * `Sql` over one better-sqlite3 connection: each SQL text is prepared once
 * and kept (the hot paths run a handful of statements over and over), and
 * runs synchronously; the promise only carries the result, so a whole
 * transaction of awaited statements runs without yielding to the event loop.
 */
export class ConnectionSql implements Sql {
  readonly dialect = 'sqlite' as const;
  private readonly statements = new Map<string, Statement>();
  /**
   * How many statements that may have written (not read-only; an insert only
   * when it inserted a row) have run to completion on this connection: group
   * commit tells by it whether a failed work wrote.
   */
  writes = 0;

  constructor(readonly connection: SqliteConnection) {}

  statement(text: string): Statement {
    let statement = this.statements.get(text);
    if (statement === undefined) {
      statement = this.connection.prepare(text);
      this.statements.set(text, statement);
    }
    return statement;
  }

  run(text: string, params: readonly SqlParam[] = []): Promise<number> {
    return this.step(text, params, changesOf, mayWrite);
  }

  insert(text: string, params: readonly SqlParam[] = []): Promise<number | null> {
    return this.step(text, params, insertedKeyOf, inserted);
  }

  get<Row>(text: string, params: readonly SqlParam[] = []): Promise<Row | undefined> {
    return this.step(text, params, firstRowOf, mayWrite) as Promise<Row | undefined>;
  }

  all<Row>(text: string, params: readonly SqlParam[] = []): Promise<Row[]> {
    return this.step(text, params, rowsOf, mayWrite) as Promise<Row[]>;
  }

  /** Runs one statement synchronously, counts it when it wrote, and hands its result (or its error) over as a promise. */
  private step<T>(text: string, params: readonly SqlParam[], execute: Execute<T>, wrote: (statement: Statement, result: T) => boolean): Promise<T> {
    try {
      const statement = this.statement(text);
      const result = execute(statement, bind(params));
      if (wrote(statement, result)) this.writes++;
      return Promise.resolve(result);
    } catch (error) {
      return Promise.reject(error);
    }
  }
}

type Execute<T> = (statement: Statement, bound: unknown[]) => T;
// A statement that returns rows (… RETURNING) must be stepped with get/all in better-sqlite3.
const changesOf: Execute<number> = (statement, bound) => (statement.reader ? statement.all(...bound).length : statement.run(...bound).changes);
const insertedKeyOf: Execute<number | null> = (statement, bound) => {
  const { changes, lastInsertRowid } = statement.run(...bound);
  return changes === 0 ? null : Number(lastInsertRowid);
};
const firstRowOf: Execute<unknown> = (statement, bound) => statement.get(...bound);
const rowsOf: Execute<unknown[]> = (statement, bound) => statement.all(...bound);
/** Whatever it changed (DDL reports no changes): a statement that is not read-only may have written. */
const mayWrite = (statement: Statement): boolean => !statement.readonly;
const inserted = (_statement: Statement, key: number | null): boolean => key !== null;

/** The writer connection as a transaction sees it: statements, and the signals to raise after its commit. */
export class TransactionSql implements TxSql {
  readonly dialect = 'sqlite' as const;

  constructor(
    private readonly sql: ConnectionSql,
    private readonly signals: Set<string>,
  ) {}

  run(text: string, params?: readonly SqlParam[]): Promise<number> {
    return this.sql.run(text, params);
  }

  get<Row>(text: string, params?: readonly SqlParam[]): Promise<Row | undefined> {
    return this.sql.get<Row>(text, params);
  }

  all<Row>(text: string, params?: readonly SqlParam[]): Promise<Row[]> {
    return this.sql.all<Row>(text, params);
  }

  insert(text: string, params?: readonly SqlParam[]): Promise<number | null> {
    return this.sql.insert(text, params);
  }

  signalAfterCommit(signal: string): void {
    this.signals.add(signal);
  }
}
