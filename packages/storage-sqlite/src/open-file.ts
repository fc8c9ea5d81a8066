import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { DatabaseOpenError } from '@handinger-webhooks/event-store';

/** A better-sqlite3 connection. */
export type SqliteConnection = Database.Database;

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

/** Owner-only: the database holds the service's secrets (sealed) and everything else worth stealing. */
const OWNER_ONLY_FILE = 0o600;
const OWNER_ONLY_DIR = 0o700;
/** SQLite's companions of a database file; it creates them with the database file's permissions. */
const COMPANION_SUFFIXES = ['-wal', '-shm', '-journal'];

const SQLITE_HEADER = Buffer.from('SQLite format 3\0', 'latin1');

/** Whether an existing file is a SQLite database (or empty): only those get their permissions changed. */
function looksLikeDatabase(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const header = Buffer.alloc(SQLITE_HEADER.length);
    const read = readSync(fd, header, 0, header.length, 0);
    return read === 0 || (read === header.length && header.equals(SQLITE_HEADER));
  } finally {
    closeSync(fd);
  }
}

/**
 * Makes the database file owner-only before SQLite opens it: a new file is
 * created 0600 (in a 0700 folder, if the folder is new), and an existing
 * database (from before this rule) has group and other permissions taken
 * away, with its WAL companions. A file that is not a database is left as
 * it is (opening it fails next, naming it).
 */
function restrictPermissions(path: string): void {
  const folder = dirname(path);
  if (!existsSync(folder)) mkdirSync(folder, { recursive: true, mode: OWNER_ONLY_DIR });
  if (!existsSync(path)) {
    closeSync(openSync(path, 'a', OWNER_ONLY_FILE));
    return;
  }
  if (!statSync(path).isFile() || !looksLikeDatabase(path)) return;
  for (const file of [path, ...COMPANION_SUFFIXES.map((suffix) => path + suffix)]) {
    try {
      if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, OWNER_ONLY_FILE);
    } catch (error) {
      // A missing companion is fine; a file we may not chmod (not ours) is the operator's choice.
      if (!['ENOENT', 'EPERM'].includes((error as NodeJS.ErrnoException).code ?? '')) throw error;
    }
  }
}

/** One line naming the path and what is wrong with it. */
function describeOpenFailure(path: string, error: unknown): string {
  if (path !== ':memory:' && existsSync(path) && statSync(path).isDirectory()) return `${path} is a directory, not a database file`;
  const code = (error as { code?: unknown } | null)?.code;
  switch (code) {
    case 'SQLITE_NOTADB':
      return `${path} is not a SQLite database (or it is damaged)`;
    case 'SQLITE_CORRUPT':
      return `${path} is a damaged SQLite database`;
    case 'SQLITE_CANTOPEN':
      return `cannot open the database file ${path}`;
    case 'EACCES':
    case 'EPERM':
      return `cannot open the database file ${path}: permission denied`;
    case 'ENOTDIR':
      return `cannot create the database file ${path}: a part of the path is not a directory`;
    default:
      return `cannot open the database file ${path}: ${typeof code === 'string' ? code : (error as Error).message}`;
  }
}

/**
 * Opens one connection (creating the file and its directory if needed) to a
 * SQLite database tuned for an event log shared by several processes: WAL so readers never block the
 * writer, `synchronous = NORMAL` (a commit survives a process crash; WAL
 * fsyncs at checkpoints), and a busy timeout so a CLI command waits for the
 * server's transaction rather than failing. Files are owner-only.
 * @throws DatabaseOpenError naming the path when it is not a usable database
 */
export function openConnection(path: string, options: OpenDatabaseOptions = {}): SqliteConnection {
  const nativeBinding = options.nativeBinding ?? defaultNativeBinding;
  let db: SqliteConnection | undefined;
  try {
    if (path !== ':memory:' && !options.readonly) restrictPermissions(path);
    db = new Database(path, {
      readonly: options.readonly ?? false,
      fileMustExist: options.readonly ?? false,
      ...(nativeBinding ? { nativeBinding: nativeBinding as unknown as string } : {}),
    });
    db.pragma('busy_timeout = 10000');
    if (!options.readonly) db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    return db;
  } catch (error) {
    db?.close();
    throw new DatabaseOpenError(path, describeOpenFailure(path, error), { cause: error });
  }
}
