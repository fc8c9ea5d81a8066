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
  /** How many statements that may write (not read-only) have run to completion on this connection: group commit tells by it whether a failed work wrote. */
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
    try {
      const statement = this.statement(text);
      // A statement that returns rows (… RETURNING) must be stepped with get/all in better-sqlite3.
      const changes = statement.reader ? statement.all(...bind(params)).length : statement.run(...bind(params)).changes;
      if (!statement.readonly) this.writes++;
      return Promise.resolve(changes);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  insert(text: string, params: readonly SqlParam[] = []): Promise<number | null> {
    try {
      const result = this.statement(text).run(...bind(params));
      this.writes++;
      return Promise.resolve(result.changes === 0 ? null : Number(result.lastInsertRowid));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  get<Row>(text: string, params: readonly SqlParam[] = []): Promise<Row | undefined> {
    try {
      const statement = this.statement(text);
      const row = statement.get(...bind(params)) as Row | undefined;
      if (!statement.readonly) this.writes++;
      return Promise.resolve(row);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  all<Row>(text: string, params: readonly SqlParam[] = []): Promise<Row[]> {
    try {
      const statement = this.statement(text);
      const rows = statement.all(...bind(params)) as Row[];
      if (!statement.readonly) this.writes++;
      return Promise.resolve(rows);
    } catch (error) {
      return Promise.reject(error);
    }
  }
}

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
