import type { SqlDialect } from './sql.js';

/**
 * Where a follower of the log is: opaque to it, stored as text in its
 * checkpoint. On SQLite commits become visible in position order, so the
 * position alone says it. On PostgreSQL a transaction may commit after one
 * holding higher positions, so the cursor is (writing transaction id,
 * position) and followers read only what no open transaction can precede
 * (see `EventLog.readAfter`).
 */
export type LogCursor = string;

/** Before the first event. */
export const LOG_START: LogCursor = '';

export interface DecodedCursor {
  /** The writing transaction's id (`xid8`, as text); '0' on SQLite. */
  tx: string;
  position: number;
}

export function decodeCursor(cursor: LogCursor): DecodedCursor {
  if (cursor === '') return { tx: '0', position: 0 };
  const at = cursor.indexOf(':');
  if (at < 0) return { tx: '0', position: Number(cursor) };
  return { tx: cursor.slice(0, at), position: Number(cursor.slice(at + 1)) };
}

export function encodeCursor(dialect: SqlDialect, cursor: DecodedCursor): LogCursor {
  return dialect === 'sqlite' ? String(cursor.position) : `${cursor.tx}:${cursor.position}`;
}
