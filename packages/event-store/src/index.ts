export { inList, notInList, listParam, nowMs, timeOrNow, lockForTransaction, type Sql, type TxSql, type SqlDialect, type SqlParam } from './sql.js';
export { COMMIT_SIGNAL, type Database, type SchemaMigration } from './database.js';
export {
  ConcurrencyError,
  toRecorded,
  type NewEvent,
  type RecordedEvent,
  type ExpectedVersion,
  type AppendResult,
  type EventRow,
} from './events.js';
export { EventLog, type EventLogOptions, type LogPage } from './event-log.js';
export { isoClock } from './iso-clock.js';
export { LOG_START, decodeCursor, encodeCursor, type LogCursor } from './log-cursor.js';
export { EVENT_STORE_MIGRATIONS } from './migrations/index.js';
export { Checkpoints } from './checkpoints.js';
export { Leases } from './leases.js';
export { processOwnerId, describeOwner, isOwnerGone } from './lease-owner.js';
export { StoreMeta } from './store-meta.js';
export { upgradeEventData } from './event-data-upgrade.js';
export {
  DatabaseOpenError,
  StorageUnavailableError,
  STORAGE_UNAVAILABLE_MESSAGES,
  asStorageUnavailable,
  type StorageUnavailableReason,
} from './storage-errors.js';
