/**
 * Storage failures a caller can do something about, told apart from bugs:
 * the database could not be opened (a wrong path, not a database), or it is
 * there but cannot take a write right now (disk full, I/O error, locked for
 * too long). Adapters turn them into one clear line (CLI) or a 503 (API).
 */

/** The database could not be opened; the message names the path and why. */
export class DatabaseOpenError extends Error {
  constructor(
    readonly path: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'DatabaseOpenError';
  }
}

/** Why storage cannot serve a write right now. */
export type StorageUnavailableReason = 'full' | 'io' | 'busy' | 'unreachable';

/** Storage is (for now) unable to serve the request; nothing was recorded, and retrying later may work. */
export class StorageUnavailableError extends Error {
  constructor(
    readonly reason: StorageUnavailableReason,
    options?: { cause?: unknown },
  ) {
    super(STORAGE_UNAVAILABLE_MESSAGES[reason], options);
    this.name = 'StorageUnavailableError';
  }
}

export const STORAGE_UNAVAILABLE_MESSAGES: Record<StorageUnavailableReason, string> = {
  full: 'storage is full: nothing was recorded; retry later',
  io: 'storage failed (I/O error): nothing was recorded; retry later',
  busy: 'storage is busy: nothing was recorded; retry later',
  unreachable: 'storage is unreachable: nothing was recorded; retry later',
};

/** The reason a SQLite error means "not now" rather than "never" (extended codes included), or `null`. */
function sqliteUnavailableReason(code: string): StorageUnavailableReason | null {
  if (code === 'SQLITE_FULL') return 'full';
  if (code.startsWith('SQLITE_IOERR') || code === 'SQLITE_CANTOPEN' || code.startsWith('SQLITE_READONLY')) return 'io';
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return 'busy';
  return null;
}

/** PostgreSQL SQLSTATEs (and socket errors of the connection) that mean the database cannot serve now. */
const POSTGRES_UNAVAILABLE: Record<string, StorageUnavailableReason> = {
  '53100': 'full', // disk_full
  '58030': 'io', // io_error
  '53200': 'busy', // out_of_memory
  '53300': 'busy', // too_many_connections
  '57P01': 'unreachable', // admin_shutdown
  '57P02': 'unreachable', // crash_shutdown
  '57P03': 'unreachable', // cannot_connect_now
  '08000': 'unreachable',
  '08001': 'unreachable',
  '08003': 'unreachable',
  '08004': 'unreachable',
  '08006': 'unreachable',
  ECONNREFUSED: 'unreachable',
  ECONNRESET: 'unreachable',
  ENOENT: 'unreachable', // the server's socket file is gone
  ETIMEDOUT: 'unreachable',
  EPIPE: 'unreachable',
  EHOSTUNREACH: 'unreachable',
  ENETUNREACH: 'unreachable',
};

/** node-postgres reports a dropped connection or an exhausted pool without a code. */
const POSTGRES_UNAVAILABLE_MESSAGES = [/^Connection terminated/, /timeout exceeded when trying to connect/, /^Client has encountered a connection error/];

function reasonOf(error: object): StorageUnavailableReason | null {
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (code.startsWith('SQLITE_')) return sqliteUnavailableReason(code);
    return POSTGRES_UNAVAILABLE[code] ?? null;
  }
  const message = (error as { message?: unknown }).message;
  return typeof message === 'string' && POSTGRES_UNAVAILABLE_MESSAGES.some((pattern) => pattern.test(message)) ? 'unreachable' : null;
}

/**
 * The error as a `StorageUnavailableError` when storage (not the request)
 * is at fault, looking through `cause` chains; `null` otherwise.
 */
export function asStorageUnavailable(error: unknown): StorageUnavailableError | null {
  let current = error;
  for (let depth = 0; depth < 5 && current !== null && typeof current === 'object'; depth++) {
    if (current instanceof StorageUnavailableError) return current;
    const reason = reasonOf(current);
    if (reason !== null) return new StorageUnavailableError(reason, { cause: current });
    current = (current as { cause?: unknown }).cause;
  }
  return null;
}
