import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, linkSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { SECRET_KEY_BYTES } from './secret-box.js';

/** The environment variable holding the secret key (SPEC §7). */
export const SECRET_KEY_ENV = 'HANDINGER_SECRET_KEY';

/** A secret key that is missing, malformed or wrong; its message names where the key was looked for. */
export class SecretKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretKeyError';
  }
}

/** The key, and where it came from (for messages: never the key itself). */
export interface SecretKey {
  key: Buffer;
  /** `HANDINGER_SECRET_KEY`, the key file's path, or `a key for this process only`. */
  source: string;
  /** Whether this call created the key file. */
  created: boolean;
}

/** The key file of a database file (SPEC §7). */
export const keyFilePathOf = (databasePath: string): string => `${databasePath}.key`;

/** 32 bytes in base64 (or base64url): 43 characters and an optional `=`. */
const KEY_TEXT = /^[A-Za-z0-9+/_-]{43}=?$/;

/** Parses the base64 text of a key (as the variable and the key file hold it). */
export function parseSecretKey(text: string, source: string): Buffer {
  const trimmed = text.trim();
  if (!KEY_TEXT.test(trimmed)) {
    throw new SecretKeyError(`${source} must hold the base64 of ${SECRET_KEY_BYTES} random bytes (e.g. from \`openssl rand -base64 32\`)`);
  }
  return Buffer.from(trimmed.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
}

/** A new key as the key file and the variable hold it. */
export const newSecretKeyText = (): string => randomBytes(SECRET_KEY_BYTES).toString('base64');

/**
 * Publishes a new key file atomically and owner-only: written and synced
 * under a temporary name, then linked into place, which fails if another
 * process got there first (its key is then the one read back), so two
 * processes starting on a new database never end up with two keys.
 */
export function createKeyFile(path: string): void {
  const temporary = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const fd = openSync(temporary, 'wx', 0o600);
  try {
    writeSync(fd, `${newSecretKeyText()}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(temporary, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    unlinkSync(temporary);
  }
}

function readKeyFile(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new SecretKeyError(`cannot read the secret key file ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

export interface ResolveSecretKeyOptions {
  /** The value of HANDINGER_SECRET_KEY, if set: it wins over any key file. */
  fromEnv: string | undefined;
  /** The database's key file, or `null` when the database is not a file (PostgreSQL, `:memory:`). */
  keyFile: string | null;
  /** Create the key file when it is missing (a new database, or one from before secrets were sealed). */
  createIfMissing: boolean;
  /** Without a variable or key file: `require` (PostgreSQL) fails, `ephemeral` (an in-memory database) makes one up. */
  withoutFile?: 'require' | 'ephemeral';
}

/**
 * Finds the secret key as SPEC §7 says: `HANDINGER_SECRET_KEY`, else the
 * key file `<database path>.key` (created owner-only with a new database).
 * @throws SecretKeyError naming where the key was looked for
 */
export function resolveSecretKey(options: ResolveSecretKeyOptions): SecretKey {
  if (options.fromEnv !== undefined && options.fromEnv !== '') {
    return { key: parseSecretKey(options.fromEnv, SECRET_KEY_ENV), source: SECRET_KEY_ENV, created: false };
  }
  if (options.keyFile === null) {
    if (options.withoutFile === 'ephemeral') return { key: randomBytes(SECRET_KEY_BYTES), source: 'a key for this process only', created: true };
    throw new SecretKeyError(`${SECRET_KEY_ENV} is required with this database (it has no key file): set it to the base64 of ${SECRET_KEY_BYTES} random bytes`);
  }
  let text = readKeyFile(options.keyFile);
  let created = false;
  if (text === undefined) {
    if (!options.createIfMissing) {
      throw new SecretKeyError(
        `no secret key for this database: ${SECRET_KEY_ENV} is not set and the key file ${options.keyFile} does not exist (restore it from your backup)`,
      );
    }
    createKeyFile(options.keyFile);
    text = readKeyFile(options.keyFile)!;
    created = true;
  }
  return { key: parseSecretKey(text, `the secret key file ${options.keyFile}`), source: options.keyFile, created };
}
