import type { Sql } from '@handinger-webhooks/event-store';

/** Whether a table exists (in the current schema, on PostgreSQL). */
export async function tableExists(sql: Sql, name: string): Promise<boolean> {
  const row =
    sql.dialect === 'sqlite'
      ? await sql.get("SELECT 1 AS found FROM sqlite_master WHERE type = 'table' AND name = ?", [name])
      : await sql.get('SELECT 1 AS found FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ?', [name]);
  return row !== undefined;
}

/** A table's column names in order. */
export async function columnsOf(sql: Sql, table: string): Promise<string[]> {
  const rows =
    sql.dialect === 'sqlite'
      ? await sql.all<{ name: string }>('SELECT name FROM pragma_table_info(?) ORDER BY cid', [table])
      : await sql.all<{ name: string }>(
          'SELECT column_name AS name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position',
          [table],
        );
  return rows.map((row) => row.name);
}
