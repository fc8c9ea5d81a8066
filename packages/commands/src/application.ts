import { createIdGenerator, type IdGenerator } from '@handinger-webhooks/contracts';
import type { WebhookSecrets } from '@handinger-webhooks/domain';
import { EventStore, migrateEventStore, openDatabase, type SqliteDatabase } from '@handinger-webhooks/event-store';
import { LIVE_TABLES, ReadModels, createProjector, ensureReadModels } from '@handinger-webhooks/projections';
import type { SecretBox } from '@handinger-webhooks/secrets';
import { Commands } from './commands.js';
import { prepareSecretsAtRest } from './secrets-at-rest.js';

export interface ApplicationOptions {
  /** SQLite file (created with its directory if missing), or `:memory:`. */
  dbPath: string;
  ids?: IdGenerator;
  clock?: () => Date;
  secrets?: () => WebhookSecrets;
  /**
   * The value of `HANDINGER_SECRET_KEY` (base64 of 32 bytes); without it the
   * key file `<dbPath>.key` is used (created with a new database).
   */
  secretKey?: string | undefined;
}

/** One process's handle on the service: the database, its log, read models and commands. */
export interface Application {
  db: SqliteDatabase;
  store: EventStore;
  readModels: ReadModels;
  commands: Commands;
  /** Seals and opens webhook secrets under the service's secret key (SPEC §7). */
  secretBox: SecretBox;
  /** Where the secret key came from (a path or the variable's name, never the key). */
  secretKeySource: string;
  close(): void;
}

/**
 * Opens the database, migrates the event store, sets up secrets at rest
 * (the secret key, checked against the database), makes sure the read
 * models exist and match this code (rebuilding them from the log if not),
 * and wires the inline projections into the event store.
 */
export async function openApplication(options: ApplicationOptions): Promise<Application> {
  const db = openDatabase(options.dbPath);
  let secrets: Awaited<ReturnType<typeof prepareSecretsAtRest>>;
  try {
    await migrateEventStore(db);
    secrets = await prepareSecretsAtRest(db, { dbPath: options.dbPath, secretKey: options.secretKey });
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
    secretBox: secrets.box,
    ...(options.secrets ? { secrets: options.secrets } : {}),
  });
  return { db, store, readModels, commands, secretBox: secrets.box, secretKeySource: secrets.source, close: () => db.close() };
}
