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

const sqliteCode = (error: unknown): string | undefined => {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_') ? code : undefined;
};

/** The reason a SQLite error means "not now" rather than "never" (extended codes included), or `null`. */
function sqliteUnavailableReason(code: string): StorageUnavailableReason | null {
  if (code === 'SQLITE_FULL') return 'full';
  if (code.startsWith('SQLITE_IOERR') || code === 'SQLITE_CANTOPEN' || code.startsWith('SQLITE_READONLY')) return 'io';
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return 'busy';
  return null;
}

/**
 * The error as a `StorageUnavailableError` when storage (not the request)
 * is at fault, looking through `cause` chains; `null` otherwise.
 */
export function asStorageUnavailable(error: unknown): StorageUnavailableError | null {
  let current = error;
  for (let depth = 0; depth < 5 && current !== null && typeof current === 'object'; depth++) {
    if (current instanceof StorageUnavailableError) return current;
    const code = sqliteCode(current);
    const reason = code === undefined ? null : sqliteUnavailableReason(code);
    if (reason !== null) return new StorageUnavailableError(reason, { cause: current });
    current = (current as { cause?: unknown }).cause;
  }
  return null;
}
