import { createCipheriv, createDecipheriv } from 'node:crypto';
import { secureRandomBytes } from '@handinger-webhooks/contracts';

/** Marks a sealed value, so a plaintext secret from before encryption is recognised as such. */
const SEALED_PREFIX = 'hwenc:v1:';
const ALGORITHM = 'aes-256-gcm';
export const SECRET_KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** What the key check seals: opening it proves the key is the one the database's secrets were sealed under. */
const KEY_CHECK_TEXT = 'handinger-webhooks secret key check';
const KEY_CHECK_CONTEXT = 'key-check';
/** Opened values kept in memory: the delivery path opens the same webhook's secrets for every attempt. */
const OPENED_KEPT = 2_048;

/** A sealed value that this key cannot open: another key sealed it, or it was altered. */
export class SecretDecryptionError extends Error {
  constructor(context: string) {
    super(`a sealed secret (${context}) could not be opened with this secret key`);
    this.name = 'SecretDecryptionError';
  }
}

/**
 * AES-256-GCM under the service's secret key, for secrets the service must
 * be able to read back (webhook tokens and signing secrets: it signs with
 * them). Each value gets a fresh 96-bit IV; the `context` (e.g. the worker
 * id and field) is authenticated with it, so a sealed value copied to
 * another worker or field does not open. Format: `hwenc:v1:` + base64url of
 * IV ‖ ciphertext ‖ tag.
 */
export class SecretBox {
  private readonly opened = new Map<string, string>();

  constructor(private readonly key: Buffer) {
    if (key.length !== SECRET_KEY_BYTES) throw new RangeError(`a secret key is ${SECRET_KEY_BYTES} bytes, got ${key.length}`);
  }

  static isSealed(value: string): boolean {
    return value.startsWith(SEALED_PREFIX);
  }

  seal(plaintext: string, context: string): string {
    // From the pooled CSPRNG: a `randomBytes` call per IV cost more than the cipher itself.
    const iv = secureRandomBytes(IV_BYTES);
    const cipher = createCipheriv(ALGORITHM, this.key, iv);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return SEALED_PREFIX + Buffer.concat([iv, ciphertext, cipher.getAuthTag()]).toString('base64url');
  }

  /** @throws SecretDecryptionError when the value is not sealed, was sealed for another context or key, or was altered. */
  open(sealed: string, context: string): string {
    const cacheKey = `${context}\n${sealed}`;
    const cached = this.opened.get(cacheKey);
    if (cached !== undefined) return cached;
    if (!SecretBox.isSealed(sealed)) throw new SecretDecryptionError(context);
    const bytes = Buffer.from(sealed.slice(SEALED_PREFIX.length), 'base64url');
    if (bytes.length < IV_BYTES + TAG_BYTES) throw new SecretDecryptionError(context);
    let plaintext: string;
    try {
      const decipher = createDecipheriv(ALGORITHM, this.key, bytes.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
      plaintext = Buffer.concat([decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretDecryptionError(context);
    }
    if (this.opened.size >= OPENED_KEPT) this.opened.clear();
    this.opened.set(cacheKey, plaintext);
    return plaintext;
  }

  /** A value to store beside the sealed secrets, so a wrong key is caught at start rather than at delivery time. */
  keyCheck(): string {
    return this.seal(KEY_CHECK_TEXT, KEY_CHECK_CONTEXT);
  }

  /** Whether `check` (from `keyCheck`) was made with this key. */
  matchesKeyCheck(check: string): boolean {
    try {
      return this.open(check, KEY_CHECK_CONTEXT) === KEY_CHECK_TEXT;
    } catch {
      return false;
    }
  }
}
