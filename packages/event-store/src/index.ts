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
