import type { Database } from '@handinger-webhooks/event-store';
import { SqliteDatabase } from '@handinger-webhooks/storage-sqlite';

/** For the start-up log: whether this SQLite database's WAL checkpoints run on their own thread (`undefined` on PostgreSQL). */
export const runsBackgroundCheckpoints = (database: Database): boolean | undefined =>
  database instanceof SqliteDatabase ? database.checkpointer !== null : undefined;
