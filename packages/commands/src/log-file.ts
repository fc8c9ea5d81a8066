import { once } from 'node:events';
import { existsSync, linkSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { EVENT_STORE_MIGRATIONS, EventLog, StoreMeta, type RecordedEvent } from '@handinger-webhooks/event-store';
import { rebuildReadModels } from '@handinger-webhooks/projections';
import { SecretBox, SecretKeyError, keyFilePathOf, openWebhookSecrets, parseSecretKey, type WebhookSecretPair } from '@handinger-webhooks/secrets';
import { isPostgresUrl, openStorage } from './open-storage.js';
import { KEY_CHECK } from './secrets-at-rest.js';

/**
 * The event log as a file (SPEC §12): NDJSON, one event per line, in
 * position order. A backup, and the way an installation moves between
 * SQLite and PostgreSQL. Secrets stay sealed under the source's key.
 */
export interface LogLine {
  position: number;
  stream: string;
  streamPosition: number;
  type: string;
  data: unknown;
  metadata: Record<string, unknown>;
  time: string;
}

/** Events read per query while exporting (memory stays flat whatever the log's size). */
const EXPORT_BATCH = 1_000;
/** Events written per statement batch while importing. */
const IMPORT_BATCH = 500;

/** An import that cannot be done; nothing was changed. */
export class ImportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImportError';
  }
}

const toLine = (event: RecordedEvent): LogLine => ({
  position: event.globalPosition,
  stream: event.streamId,
  streamPosition: event.streamPosition,
  type: event.type,
  data: event.data,
  metadata: event.metadata,
  time: event.recordedAt,
});

/**
 * Writes the whole log to `out` as NDJSON, from one consistent snapshot,
 * streaming (it waits for `out` to drain). Returns how many events.
 */
export async function exportLog(location: string, out: Writable): Promise<number> {
  const db = await openStorage(location);
  try {
    await db.migrate('event-store', EVENT_STORE_MIGRATIONS);
    const log = new EventLog(db);
    return await db.readSnapshot(async (sql) => {
      let count = 0;
      for (let after = 0; ; ) {
        const events = await log.readByPosition(sql, after, EXPORT_BATCH);
        if (events.length === 0) break;
        const chunk = events.map((event) => JSON.stringify(toLine(event))).join('\n') + '\n';
        if (!out.write(chunk)) await once(out, 'drain');
        count += events.length;
        after = events[events.length - 1]!.globalPosition;
      }
      return count;
    });
  } finally {
    await db.close();
  }
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** One line of the file as an event, or why it is not one. */
function parseLine(text: string, lineNumber: number): RecordedEvent {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ImportError(`line ${lineNumber}: not JSON`);
  }
  if (!isObject(value)) throw new ImportError(`line ${lineNumber}: not a JSON object`);
  const { position, stream, streamPosition, type, data, metadata, time } = value;
  const positive = (n: unknown) => Number.isSafeInteger(n) && (n as number) > 0;
  if (!positive(position)) throw new ImportError(`line ${lineNumber}: position must be a positive integer`);
  if (typeof stream !== 'string' || stream === '') throw new ImportError(`line ${lineNumber}: stream must be a non-empty string`);
  if (!positive(streamPosition)) throw new ImportError(`line ${lineNumber}: streamPosition must be a positive integer`);
  if (typeof type !== 'string' || type === '') throw new ImportError(`line ${lineNumber}: type must be a non-empty string`);
  if (data === undefined) throw new ImportError(`line ${lineNumber}: data is missing`);
  if (!isObject(metadata)) throw new ImportError(`line ${lineNumber}: metadata must be an object`);
  if (typeof time !== 'string' || Number.isNaN(Date.parse(time))) throw new ImportError(`line ${lineNumber}: time must be an ISO 8601 date-time`);
  return { globalPosition: position as number, streamId: stream, streamPosition: streamPosition as number, type, data, metadata, recordedAt: time };
}

/** The sealed secrets an event carries, for the key check. */
const sealedSecretsOf = (event: RecordedEvent): (WebhookSecretPair & { workerId: string }) | null => {
  if (event.type !== 'WebhookConfigured' && event.type !== 'WebhookTokenRotated') return null;
  const d = event.data as Partial<WebhookSecretPair & { workerId: string }>;
  return typeof d.token === 'string' && typeof d.signingSecret === 'string' && typeof d.workerId === 'string' ? (d as WebhookSecretPair & { workerId: string }) : null;
};

export interface ImportOptions {
  /** The database to load: SQLite path or PostgreSQL URL. It must hold no events. */
  db: string;
  input: Readable;
  /** The source's secret key, base64 (from `--key-file` or `HANDINGER_SECRET_KEY`), and where it came from. */
  key: { text: string; source: string };
}

/**
 * Loads an exported log into an empty database, in one transaction: every
 * line is checked (a malformed one is named and nothing is written), the
 * key must open the file's secrets, and the read models are then built
 * from the log. A SQLite database created this way keeps the key as its
 * key file. Returns how many events.
 * @throws ImportError, SecretKeyError
 */
export async function importLog(options: ImportOptions): Promise<number> {
  const key = parseSecretKey(options.key.text, options.key.source);
  const box = new SecretBox(key);
  const keyFile = isPostgresUrl(options.db) || options.db === ':memory:' ? null : keyFilePathOf(options.db);
  if (keyFile !== null && existsSync(keyFile) && !parseSecretKey(readFileSync(keyFile, 'utf8'), keyFile).equals(key)) {
    throw new ImportError(`${keyFile} already holds another secret key: import into a new database path, or remove that key file if it belongs to nothing`);
  }
  // The import writes the whole log and then every read model: its checkpoints go to a thread, as serve's do.
  const db = await openStorage(options.db, { backgroundCheckpoints: true });
  try {
    await db.migrate('event-store', EVENT_STORE_MIGRATIONS);
    const log = new EventLog(db);
    const existing = await log.count();
    if (existing > 0) throw new ImportError(`the database is not empty (it holds ${existing} events): import-log loads into an empty database only`);
    const meta = new StoreMeta();
    // This work reads `input` as it goes, so it cannot run twice (Database.transaction): it runs alone, into an empty database.
    const count = await db.transaction(async (tx) => {
      let lineNumber = 0;
      let imported = 0;
      let keyChecked = false;
      let batch: RecordedEvent[] = [];
      const lines = createInterface({ input: options.input, crlfDelay: Infinity });
      for await (const text of lines) {
        lineNumber++;
        if (text.trim() === '') continue;
        const event = parseLine(text, lineNumber);
        const secrets = keyChecked ? null : sealedSecretsOf(event);
        if (secrets !== null) {
          try {
            openWebhookSecrets(box, secrets.workerId, secrets);
          } catch {
            throw new SecretKeyError(`the secret key from ${options.key.source} does not open the secrets of this log (line ${lineNumber}): use the source database's key`);
          }
          keyChecked = true;
        }
        batch.push(event);
        if (batch.length >= IMPORT_BATCH) {
          await insert(batch, lineNumber);
          imported += batch.length;
          batch = [];
        }
      }
      await insert(batch, lineNumber);
      imported += batch.length;
      await log.afterImport(tx);
      await meta.setIfAbsent(tx, KEY_CHECK, box.keyCheck());
      return imported;

      async function insert(events: RecordedEvent[], lastLine: number): Promise<void> {
        try {
          await log.insertImported(tx, events);
        } catch (error) {
          const code = (error as { code?: string }).code ?? '';
          if (code.startsWith('SQLITE_CONSTRAINT') || code === '23505') {
            throw new ImportError(`lines up to ${lastLine}: a position or (stream, stream position) appears twice in the file`);
          }
          throw error;
        }
      }
    });
    if (keyFile !== null) writeKeyFile(keyFile, options.key.text.trim());
    await rebuildReadModels(db, log);
    return count;
  } finally {
    await db.close();
  }
}

/** The imported database's own key file (owner-only), unless one with the same key is there already. */
function writeKeyFile(path: string, text: string): void {
  const temporary = `${path}.${process.pid}.import.tmp`;
  writeFileSync(temporary, `${text}\n`, { mode: 0o600, flag: 'wx' });
  try {
    linkSync(temporary, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    unlinkSync(temporary);
  }
}
