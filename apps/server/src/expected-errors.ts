import { ImportError } from '@handinger-webhooks/commands';
import { DatabaseOpenError, asStorageUnavailable } from '@handinger-webhooks/event-store';
import { RebuildInProgressError } from '@handinger-webhooks/projections';
import { SecretKeyError } from '@handinger-webhooks/secrets';

const LISTEN_PROBLEMS: Record<string, string> = {
  EADDRINUSE: 'the port is already in use',
  EACCES: 'permission denied (ports below 1024 need privileges)',
  EADDRNOTAVAIL: 'the address is not one of this machine’s',
};

/**
 * The one-line message for a failure the operator can act on (a database
 * path that is not a database, a missing or wrong secret key, a rebuild
 * already running, a full disk, a port in use), or `null` for anything
 * else, which is a bug and keeps its stack trace. The CLI prints these
 * alone, without a stack.
 */
export function expectedErrorMessage(error: unknown): string | null {
  if (error instanceof DatabaseOpenError || error instanceof SecretKeyError || error instanceof RebuildInProgressError || error instanceof ImportError) return error.message;
  const unavailable = asStorageUnavailable(error);
  if (unavailable !== null) return unavailable.message;
  const e = error as NodeJS.ErrnoException & { address?: string; port?: number };
  if (e?.syscall === 'listen' && typeof e.code === 'string' && e.code in LISTEN_PROBLEMS) {
    return `cannot listen on ${e.address ?? '?'}:${e.port ?? '?'}: ${LISTEN_PROBLEMS[e.code]}`;
  }
  if (typeof e?.code === 'string' && e.code.startsWith('SQLITE_')) return `database error (${e.code}): ${e.message}`;
  return null;
}
