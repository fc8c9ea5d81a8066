export { openDatabase, setDefaultNativeBinding, type SqliteDatabase, type OpenDatabaseOptions } from './database.js';
export { migrateEventStore, kyselyFor } from './migrate.js';
export type { EventStoreTables } from './schema.js';
export {
  EventStore,
  ConcurrencyError,
  type NewEvent,
  type RecordedEvent,
  type ExpectedVersion,
  type AppendResult,
  type EventStoreOptions,
} from './event-store.js';
export { Checkpoints, Leases } from './checkpoints.js';
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
