import { createIdGenerator, type IdGenerator } from '@handinger-webhooks/contracts';
import type { WebhookSecrets } from '@handinger-webhooks/domain';
import { EVENT_STORE_MIGRATIONS, EventLog, type Database } from '@handinger-webhooks/event-store';
import { DeliveryClaims, ReadModels, createProjector, ensureReadModels, LIVE_TABLES } from '@handinger-webhooks/projections';
import type { SecretBox } from '@handinger-webhooks/secrets';
import { Commands } from './commands.js';
import { openStorage } from './open-storage.js';
import { PortalSessionCommands } from './portal-sessions.js';
import { prepareSecretsAtRest } from './secrets-at-rest.js';

export interface ApplicationOptions {
  /** A SQLite file (created with its folder if missing), `:memory:`, or a `postgres://` / `postgresql://` URL. */
  db: string;
  ids?: IdGenerator;
  clock?: () => Date;
  secrets?: () => WebhookSecrets;
  /**
   * The value of `HANDINGER_SECRET_KEY` (base64 of 32 bytes); without it the
   * key file `<db>.key` is used (created with a new database). Required on PostgreSQL.
   */
  secretKey?: string | undefined;
  /** SQLite: WAL checkpoints on a thread of their own (`serve` and `deliver` ask for it). */
  backgroundCheckpoints?: boolean;
}

/** One process's handle on the service: the database, its log, read models, claims and commands. */
export interface Application {
  database: Database;
  log: EventLog;
  readModels: ReadModels;
  claims: DeliveryClaims;
  commands: Commands;
  /** Portal links (SPEC §9.1). */
  portalSessions: PortalSessionCommands;
  /** Seals and opens webhook secrets under the service's secret key (SPEC §7). */
  secretBox: SecretBox;
  /** Where the secret key came from (a path or the variable's name, never the key). */
  secretKeySource: string;
  close(): Promise<void>;
}

/**
 * Opens the database (SQLite file or PostgreSQL URL), migrates the event
 * store, sets up secrets at rest (the secret key, checked against the
 * database), makes sure the read models exist and match this code
 * (rebuilding them from the log if not), and wires the inline projections
 * into the log.
 */
export async function openApplication(options: ApplicationOptions): Promise<Application> {
  const database = await openStorage(options.db, { backgroundCheckpoints: options.backgroundCheckpoints });
  const clock = options.clock ?? (() => new Date());
  const log = new EventLog(database, { project: createProjector(LIVE_TABLES), now: clock });
  let secrets: Awaited<ReturnType<typeof prepareSecretsAtRest>>;
  try {
    await database.migrate('event-store', EVENT_STORE_MIGRATIONS);
    secrets = await prepareSecretsAtRest(database, log, { db: options.db, secretKey: options.secretKey });
    await ensureReadModels(database, log);
  } catch (error) {
    await database.close();
    throw error;
  }
  const readModels = new ReadModels(database.sql);
  const claims = new DeliveryClaims();
  const ids = options.ids ?? createIdGenerator(() => clock().getTime());
  const commands = new Commands({
    database,
    log,
    readModels,
    ids,
    clock,
    secretBox: secrets.box,
    ...(options.secrets ? { secrets: options.secrets } : {}),
  });
  const portalSessions = new PortalSessionCommands({ database, log, readModels, ids, clock });
  return { database, log, readModels, claims, commands, portalSessions, secretBox: secrets.box, secretKeySource: secrets.source, close: () => database.close() };
}
