import { StoreMeta, upgradeEventData, type SqliteDatabase } from '@handinger-webhooks/event-store';
import { rebuildReadModels } from '@handinger-webhooks/projections';
import { SecretBox, SecretKeyError, keyFilePathOf, resolveSecretKey, sealWebhookSecrets, type WebhookSecretPair } from '@handinger-webhooks/secrets';

/** Where the store keeps the proof of which key sealed its secrets. */
const KEY_CHECK = 'secrets.key-check';
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
 * Sets up secrets at rest (SPEC §7) on an open, migrated SQLite database:
 * finds the key (`HANDINGER_SECRET_KEY`, else `<database>.key`, created with
 * a new database), and checks it against the key check the database keeps,
 * so a wrong or missing key is one clear error now rather than a failure at
 * delivery time.
 *
 * A database from before secrets were sealed has no key check: its key
 * file is created, every plaintext token and signing secret in its log is
 * sealed in place (the one rewrite of the log, see `upgradeEventData`),
 * the read models are rebuilt from the sealed log, and the file is
 * vacuumed so no page keeps an old plaintext copy.
 * @throws SecretKeyError
 */
export async function prepareSecretsAtRest(db: SqliteDatabase, options: { dbPath: string; secretKey: string | undefined }): Promise<SecretsAtRest> {
  const meta = new StoreMeta(db);
  const key = resolveSecretKey({
    fromEnv: options.secretKey,
    keyFile: options.dbPath === ':memory:' ? null : keyFilePathOf(options.dbPath),
    createIfMissing: meta.get(KEY_CHECK) === undefined,
    withoutFile: 'ephemeral',
  });
  const box = new SecretBox(key.key);
  const upgraded = db
    .transaction(() => {
      // Read again under the write lock: another process may have set the database up meanwhile.
      const check = meta.get(KEY_CHECK);
      if (check !== undefined) {
        if (!box.matchesKeyCheck(check)) throw wrongKey(key.source);
        return 0;
      }
      const sealed = upgradeEventData(db, SECRET_BEARING_EVENTS, ({ data }) => {
        const d = data as WebhookSecretPair & { workerId: string };
        if (SecretBox.isSealed(d.token) && SecretBox.isSealed(d.signingSecret)) return undefined;
        return { ...d, ...sealWebhookSecrets(box, d.workerId, { token: d.token, signingSecret: d.signingSecret }) };
      });
      meta.setIfAbsent(KEY_CHECK, box.keyCheck());
      return sealed;
    })
    .immediate();
  if (upgraded > 0) {
    await rebuildReadModels(db);
    db.exec('VACUUM');
    db.pragma('wal_checkpoint(TRUNCATE)');
  }
  return { box, source: key.source, upgraded };
}
