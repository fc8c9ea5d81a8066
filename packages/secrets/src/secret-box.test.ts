import { randomBytes } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { SecretBox, SecretDecryptionError } from './secret-box.js';
import { openWebhookSecrets, sealWebhookSecrets } from './webhook-secrets.js';

const box = new SecretBox(randomBytes(32));

describe('SecretBox', () => {
  test('seals to an opaque marked value that opens to the plaintext', () => {
    const sealed = box.seal('whsec_abc', 'ctx');
    expect(sealed).toMatch(/^hwenc:v1:[A-Za-z0-9_-]+$/);
    expect(sealed).not.toContain('whsec_abc');
    expect(SecretBox.isSealed(sealed)).toBe(true);
    expect(SecretBox.isSealed('whsec_abc')).toBe(false);
    expect(box.open(sealed, 'ctx')).toBe('whsec_abc');
  });

  test('each seal uses a fresh IV: the same secret never seals to the same text', () => {
    expect(box.seal('same', 'ctx')).not.toBe(box.seal('same', 'ctx'));
  });

  test('refuses another context, another key, an altered value and a plaintext', () => {
    const sealed = box.seal('secret', 'webhook-token:w1');
    expect(() => box.open(sealed, 'webhook-token:w2')).toThrow(SecretDecryptionError);
    expect(() => new SecretBox(randomBytes(32)).open(sealed, 'webhook-token:w1')).toThrow(SecretDecryptionError);
    const bytes = Buffer.from(sealed.slice('hwenc:v1:'.length), 'base64url');
    bytes[bytes.length - 20]! ^= 1;
    expect(() => box.open(`hwenc:v1:${bytes.toString('base64url')}`, 'webhook-token:w1')).toThrow(SecretDecryptionError);
    expect(() => box.open('secret', 'webhook-token:w1')).toThrow(SecretDecryptionError);
    expect(() => box.open('hwenc:v1:AAAA', 'webhook-token:w1')).toThrow(SecretDecryptionError);
  });

  test('the key check tells this key from another', () => {
    const check = box.keyCheck();
    expect(box.matchesKeyCheck(check)).toBe(true);
    expect(new SecretBox(randomBytes(32)).matchesKeyCheck(check)).toBe(false);
    expect(box.matchesKeyCheck('garbage')).toBe(false);
  });

  test('a key must be 32 bytes', () => {
    expect(() => new SecretBox(randomBytes(16))).toThrow(RangeError);
  });
});

describe('webhook secrets', () => {
  test('are bound to their worker and field', () => {
    const sealed = sealWebhookSecrets(box, 'w1', { token: 'tok', signingSecret: 'whsec_x' });
    expect(openWebhookSecrets(box, 'w1', sealed)).toEqual({ token: 'tok', signingSecret: 'whsec_x' });
    expect(() => openWebhookSecrets(box, 'w2', sealed)).toThrow(SecretDecryptionError);
    expect(() => openWebhookSecrets(box, 'w1', { token: sealed.signingSecret, signingSecret: sealed.token })).toThrow(SecretDecryptionError);
  });
});
