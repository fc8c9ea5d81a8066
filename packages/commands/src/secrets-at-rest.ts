import { StoreMeta, upgradeEventData, type Database, type EventLog } from '@handinger-webhooks/event-store';
import { rebuildReadModels } from '@handinger-webhooks/projections';
import { SecretBox, SecretKeyError, keyFilePathOf, resolveSecretKey, sealWebhookSecrets, type WebhookSecretPair } from '@handinger-webhooks/secrets';
import { isPostgresUrl } from './open-storage.js';

/** Where the store keeps the proof of which key sealed its secrets. */
export const KEY_CHECK = 'secrets.key-check';
/** The events that carry a webhook's secrets. */
const SECRET_BEARING_EVENTS = ['WebhookConfigured', 'WebhookTokenRotated'];

export interface SecretsAtRest {
  box: SecretBox;
  /** Where the key came from, for the start-up log (never the key). */
  source: string;
  /** Events whose plaintext secrets (written before secrets were sealed) were sealed by this start. */
  upgraded: number;
}

const wrongKey = (source: string) =>
  new SecretKeyError(`the secret key from ${source} does not open this database's secrets (they were sealed under another key)`);

/**
 * Sets up secrets at rest (SPEC §7) on an open, migrated database: finds
 * the key (`HANDINGER_SECRET_KEY`; else, for a database file, `<file>.key`,
 * created with a new database; PostgreSQL requires the variable), and checks
 * it against the key check the database keeps, so a wrong or missing key is
 * one clear error now rather than a failure at delivery time.
 *
 * A database from before secrets were sealed has no key check: its key
 * file is created, every plaintext token and signing secret in its log is
 * sealed in place (the one rewrite of the log, see `upgradeEventData`),
 * the read models are rebuilt from the sealed log, and the storage is
 * compacted so no page keeps an old plaintext copy.
 * @throws SecretKeyError
 */
export async function prepareSecretsAtRest(database: Database, log: EventLog, options: { db: string; secretKey: string | undefined }): Promise<SecretsAtRest> {
  const meta = new StoreMeta();
  const postgres = isPostgresUrl(options.db);
  const key = resolveSecretKey({
    fromEnv: options.secretKey,
    keyFile: postgres || options.db === ':memory:' ? null : keyFilePathOf(options.db),
    createIfMissing: (await meta.get(database.sql, KEY_CHECK)) === undefined,
    withoutFile: postgres ? 'require' : 'ephemeral',
  });
  const box = new SecretBox(key.key);
  const upgraded = await database.transaction(async (tx) => {
    // Read again in the write transaction: another process may have set the database up meanwhile.
    const check = await meta.get(tx, KEY_CHECK);
    if (check !== undefined) {
      if (!box.matchesKeyCheck(check)) throw wrongKey(key.source);
      return 0;
    }
    const sealed = await upgradeEventData(tx, SECRET_BEARING_EVENTS, ({ data }) => {
      const d = data as WebhookSecretPair & { workerId: string };
      if (SecretBox.isSealed(d.token) && SecretBox.isSealed(d.signingSecret)) return undefined;
      return { ...d, ...sealWebhookSecrets(box, d.workerId, { token: d.token, signingSecret: d.signingSecret }) };
    });
    await meta.setIfAbsent(tx, KEY_CHECK, box.keyCheck());
    return sealed;
  });
  if (upgraded > 0) {
    await rebuildReadModels(database, log);
    await database.compact();
  }
  return { box, source: key.source, upgraded };
}
