import type { Sql, SqlParam, TxSql } from '@handinger-webhooks/event-store';
import type { Pool, PoolClient, QueryResult, QueryResultRow } from 'pg';
import { toPostgres } from './placeholders.js';

type Queryable = Pick<Pool, 'query'> | Pick<PoolClient, 'query'>;

/** pg sends JS arrays as PostgreSQL arrays; booleans, numbers, text and bytes as themselves. */
const bind = (params: readonly SqlParam[]): unknown[] => params.map((p) => (typeof p === 'bigint' ? p.toString() : p));

async function query<Row extends QueryResultRow>(on: Queryable, sql: string, params: readonly SqlParam[]): Promise<QueryResult<Row>> {
  const { name, text } = toPostgres(sql);
  return (on as Pool).query<Row>({ name, text, values: bind(params) });
}

/** `Sql` over the pool (each statement on any free connection) or over one connection (a transaction). */
export class PgSql implements Sql {
  readonly dialect = 'postgres' as const;

  constructor(private readonly on: Queryable) {}

  async run(text: string, params: readonly SqlParam[] = []): Promise<number> {
    return (await query(this.on, text, params)).rowCount ?? 0;
  }

  async get<Row>(text: string, params: readonly SqlParam[] = []): Promise<Row | undefined> {
    return (await query<QueryResultRow>(this.on, text, params)).rows[0] as Row | undefined;
  }

  async all<Row>(text: string, params: readonly SqlParam[] = []): Promise<Row[]> {
    return (await query<QueryResultRow>(this.on, text, params)).rows as Row[];
  }

  async insert(text: string, params: readonly SqlParam[] = []): Promise<number | null> {
    const row = (await query<QueryResultRow>(this.on, text, params)).rows[0];
    return row === undefined ? null : (Object.values(row)[0] as number);
  }
}

/** A transaction's connection, collecting the signals to raise after its commit. */
export class PgTxSql extends PgSql implements TxSql {
  constructor(
    client: PoolClient,
    private readonly signals: Set<string>,
  ) {
    super(client);
  }

  signalAfterCommit(signal: string): void {
    this.signals.add(signal);
  }
}
