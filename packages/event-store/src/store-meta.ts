import type { Sql } from './sql.js';

/** Named facts about the store itself (not the domain), e.g. the secret key check. */
export class StoreMeta {
  async get(sql: Sql, key: string): Promise<string | undefined> {
    return (await sql.get<{ value: string }>('SELECT value FROM store_meta WHERE key = ?', [key]))?.value;
  }

  /** Sets `key` unless it is set already; returns whether this call set it. */
  async setIfAbsent(sql: Sql, key: string, value: string): Promise<boolean> {
    return (await sql.run('INSERT INTO store_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING', [key, value])) === 1;
  }
}
