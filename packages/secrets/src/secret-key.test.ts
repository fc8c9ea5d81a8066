import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { createTempDir } from '@handinger-webhooks/testing';
import { afterEach, describe, expect, test } from 'vitest';
import { SecretKeyError, createKeyFile, newSecretKeyText, parseSecretKey, resolveSecretKey } from './secret-key.js';

const dirs: { remove(): void }[] = [];
const tempDir = () => {
  const dir = createTempDir('handinger-secrets-test-');
  dirs.push(dir);
  return dir;
};
afterEach(() => dirs.splice(0).forEach((dir) => dir.remove()));

describe('parseSecretKey', () => {
  test('takes base64 or base64url of 32 bytes, with or without padding and whitespace', () => {
    const text = newSecretKeyText();
    expect(parseSecretKey(text, 'x')).toHaveLength(32);
    expect(parseSecretKey(` ${text}\n`, 'x').equals(parseSecretKey(text, 'x'))).toBe(true);
    const url = Buffer.from(text, 'base64').toString('base64url');
    expect(parseSecretKey(url, 'x').equals(parseSecretKey(text, 'x'))).toBe(true);
  });

  test.each(['', 'short', Buffer.alloc(16).toString('base64'), Buffer.alloc(33).toString('base64'), `${'!'.repeat(43)}=`])(
    'refuses %j, naming where it came from',
    (text) => {
      expect(() => parseSecretKey(text, 'HANDINGER_SECRET_KEY')).toThrow(
        new SecretKeyError('HANDINGER_SECRET_KEY must hold the base64 of 32 random bytes (e.g. from `openssl rand -base64 32`)'),
      );
    },
  );
});

describe('resolveSecretKey', () => {
  test('the variable wins over any key file', () => {
    const dir = tempDir();
    const text = newSecretKeyText();
    const key = resolveSecretKey({ fromEnv: text, keyFile: dir.file('db.key'), createIfMissing: true });
    expect(key).toMatchObject({ source: 'HANDINGER_SECRET_KEY', created: false });
    expect(key.key.toString('base64')).toBe(text);
    expect(() => statSync(dir.file('db.key'))).toThrow(); // no file was made
  });

  test('creates the key file owner-only when allowed, then reads it back', () => {
    const dir = tempDir();
    const path = dir.file('db.key');
    const first = resolveSecretKey({ fromEnv: undefined, keyFile: path, createIfMissing: true });
    expect(first).toMatchObject({ source: path, created: true });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const again = resolveSecretKey({ fromEnv: undefined, keyFile: path, createIfMissing: false });
    expect(again.created).toBe(false);
    expect(again.key.equals(first.key)).toBe(true);
  });

  test('never replaces a key file that appeared meanwhile', () => {
    const dir = tempDir();
    const path = dir.file('db.key');
    const existing = newSecretKeyText();
    writeFileSync(path, existing);
    createKeyFile(path);
    expect(readFileSync(path, 'utf8')).toBe(existing);
  });

  test('a missing key file is an error naming both places when it may not be created', () => {
    const dir = tempDir();
    const path = dir.file('db.key');
    expect(() => resolveSecretKey({ fromEnv: undefined, keyFile: path, createIfMissing: false })).toThrow(
      `no secret key for this database: HANDINGER_SECRET_KEY is not set and the key file ${path} does not exist (restore it from your backup)`,
    );
  });

  test('a damaged key file is an error naming the file', () => {
    const dir = tempDir();
    const path = dir.file('db.key');
    writeFileSync(path, 'not a key');
    expect(() => resolveSecretKey({ fromEnv: undefined, keyFile: path, createIfMissing: true })).toThrow(`the secret key file ${path} must hold`);
  });

  test('without a file the variable is required, unless a throwaway key will do', () => {
    expect(() => resolveSecretKey({ fromEnv: undefined, keyFile: null, createIfMissing: true, withoutFile: 'require' })).toThrow(
      /^HANDINGER_SECRET_KEY is required/,
    );
    expect(resolveSecretKey({ fromEnv: undefined, keyFile: null, createIfMissing: true, withoutFile: 'ephemeral' }).key).toHaveLength(32);
  });
});
