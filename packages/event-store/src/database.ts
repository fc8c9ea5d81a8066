import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

export type SqliteDatabase = Database.Database;

export interface OpenDatabaseOptions {
  readonly?: boolean;
  /** The better-sqlite3 addon, already loaded (the single executable carries its own). */
  nativeBinding?: object;
}

let defaultNativeBinding: object | undefined;

/** Lets the single executable hand over the addon it extracted, once, before any database is opened. */
export function setDefaultNativeBinding(binding: object): void {
  defaultNativeBinding = binding;
}

/**
 * Opens (creating the directory if needed) a SQLite database tuned for an
 * event log shared by several processes: WAL so readers never block the
 * writer, `synchronous = NORMAL` (a commit survives a process crash; WAL
 * fsyncs at checkpoints), and a busy timeout so a CLI command waits for the
 * server's transaction rather than failing.
 */
export function openDatabase(path: string, options: OpenDatabaseOptions = {}): SqliteDatabase {
  if (path !== ':memory:' && !options.readonly) mkdirSync(dirname(path), { recursive: true });
  const nativeBinding = options.nativeBinding ?? defaultNativeBinding;
  const db = new Database(path, {
    readonly: options.readonly ?? false,
    fileMustExist: options.readonly ?? false,
    ...(nativeBinding ? { nativeBinding: nativeBinding as unknown as string } : {}),
  });
  db.pragma('busy_timeout = 10000');
  if (!options.readonly) db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  return db;
}
