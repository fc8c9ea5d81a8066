import { EVENT_STORE_MIGRATIONS, EventLog, type Database } from '@handinger-webhooks/event-store';
import { LIVE_TABLES, ReadModels, createProjector, ensureReadModels } from '@handinger-webhooks/projections';
import { openPostgresDatabase } from '@handinger-webhooks/storage-postgres';
import { openSqliteDatabase } from '@handinger-webhooks/storage-sqlite';
import { createTestDatabase, type TestBackend, type TestDatabase } from '@handinger-webhooks/testing';

/** One backend's storage, set up as an application would: migrated, read models ready, inline projections wired. */
export interface StorageUnderTest {
  backend: TestBackend;
  db: Database;
  log: EventLog;
  readModels: ReadModels;
  /** Another process's view of the same database: a second driver instance with its own connections. */
  openAnother(): Promise<{ db: Database; log: EventLog }>;
  close(): Promise<void>;
}

const open = (location: string, backend: TestBackend): Promise<Database> =>
  backend === 'sqlite' ? Promise.resolve(openSqliteDatabase(location)) : openPostgresDatabase(location);

/** A fresh database of `backend`, opened through its driver. */
export async function openStorageUnderTest(backend: TestBackend, options: { project?: boolean } = {}): Promise<StorageUnderTest> {
  const database: TestDatabase = await createTestDatabase(backend);
  const opened: Database[] = [];
  const wire = async () => {
    const db = await open(database.db, backend);
    opened.push(db);
    return { db, log: new EventLog(db, options.project === false ? {} : { project: createProjector(LIVE_TABLES) }) };
  };
  const first = await wire();
  await first.db.migrate('event-store', EVENT_STORE_MIGRATIONS);
  await ensureReadModels(first.db, new EventLog(first.db));
  return {
    backend,
    db: first.db,
    log: first.log,
    readModels: new ReadModels(first.db.sql),
    openAnother: wire,
    async close() {
      for (const db of opened) await db.close();
      await database.drop();
    },
  };
}
