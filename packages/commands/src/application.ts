import { createIdGenerator, type IdGenerator } from '@handinger-webhooks/contracts';
import type { WebhookSecrets } from '@handinger-webhooks/domain';
import { EventStore, migrateEventStore, openDatabase, type SqliteDatabase } from '@handinger-webhooks/event-store';
import { LIVE_TABLES, ReadModels, createProjector, ensureReadModels } from '@handinger-webhooks/projections';
import { Commands } from './commands.js';

export interface ApplicationOptions {
  /** SQLite file (created with its directory if missing), or `:memory:`. */
  dbPath: string;
  ids?: IdGenerator;
  clock?: () => Date;
  secrets?: () => WebhookSecrets;
}

/** One process's handle on the service: the database, its log, read models and commands. */
export interface Application {
  db: SqliteDatabase;
  store: EventStore;
  readModels: ReadModels;
  commands: Commands;
  close(): void;
}

/**
 * Opens the database, migrates the event store, makes sure the read models
 * exist and match this code (rebuilding them from the log if not), and wires
 * the inline projections into the event store.
 */
export async function openApplication(options: ApplicationOptions): Promise<Application> {
  const db = openDatabase(options.dbPath);
  try {
    await migrateEventStore(db);
    await ensureReadModels(db);
  } catch (error) {
    db.close();
    throw error;
  }
  const clock = options.clock ?? (() => new Date());
  const store = new EventStore(db, { onAppended: createProjector(db, LIVE_TABLES), now: clock });
  const readModels = new ReadModels(db);
  const commands = new Commands({
    store,
    readModels,
    ids: options.ids ?? createIdGenerator(() => clock().getTime()),
    clock,
    ...(options.secrets ? { secrets: options.secrets } : {}),
  });
  return { db, store, readModels, commands, close: () => db.close() };
}
