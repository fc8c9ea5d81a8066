import { afterEach, beforeEach } from 'vitest';
import { EventStore, migrateEventStore, openDatabase, type SqliteDatabase } from '@handinger-webhooks/event-store';
import { createTempDir } from '@handinger-webhooks/testing';
import { createProjector } from '../projector.js';
import { ReadModels } from '../queries.js';
import { ensureReadModels } from '../rebuild.js';
import { LIVE_TABLES } from '../tables.js';

export interface LiveReadModels {
  dir: ReturnType<typeof createTempDir>;
  db: SqliteDatabase;
  /** An event store whose appends project inline into the live read models. */
  store: EventStore;
  readModels: ReadModels;
}

/**
 * Registers vitest hooks giving each test a fresh SQLite file with the event
 * store migrated and the live read models wired inline; read the fields
 * inside tests (they change before each one).
 */
export function useLiveReadModels(): LiveReadModels {
  const fixture = {} as LiveReadModels;
  beforeEach(async () => {
    fixture.dir = createTempDir();
    fixture.db = openDatabase(fixture.dir.file('app.db'));
    await migrateEventStore(fixture.db);
    await ensureReadModels(fixture.db);
    fixture.store = new EventStore(fixture.db, { onAppended: createProjector(fixture.db, LIVE_TABLES) });
    fixture.readModels = new ReadModels(fixture.db);
  });
  afterEach(() => {
    fixture.db.close();
    fixture.dir.remove();
  });
  return fixture;
}
