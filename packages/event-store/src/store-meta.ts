import type { Statement } from 'better-sqlite3';
import type { SqliteDatabase } from './database.js';

/** Named facts about the store itself (not the domain), e.g. the secret key check. */
export class StoreMeta {
  private readonly getStatement: Statement<[string], { value: string }>;
  private readonly insertStatement: Statement<[string, string]>;

  constructor(db: SqliteDatabase) {
    this.getStatement = db.prepare('SELECT value FROM store_meta WHERE key = ?');
    this.insertStatement = db.prepare('INSERT INTO store_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING');
  }

  get(key: string): string | undefined {
    return this.getStatement.get(key)?.value;
  }

  /** Sets `key` unless it is set already; returns whether this call set it. */
  setIfAbsent(key: string, value: string): boolean {
    return this.insertStatement.run(key, value).changes === 1;
  }
}
