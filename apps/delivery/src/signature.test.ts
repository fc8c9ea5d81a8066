import fc from 'fast-check';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { generateWebhookSecrets } from '@handinger-webhooks/commands';
import { signWebhook } from './signature.js';

describe('signWebhook', () => {
  it('matches the Standard Webhooks reference vector', () => {
    // From the Standard Webhooks specification's test vectors.
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const id = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
    const timestamp = 1614265330;
    const body = Buffer.from('{"test": 2432232314}');
    expect(signWebhook(secret, id, timestamp, body)).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('verifies with the standardwebhooks package for any body', () => {
    const { signingSecret } = generateWebhookSecrets();
    const verifier = new Webhook(signingSecret);
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const body = Buffer.from(JSON.stringify({ value }), 'utf8');
        const timestamp = Math.floor(Date.now() / 1000);
        const headers = {
          'webhook-id': 'msg_01HZY2ZJQ8G7K42W2D7WF6V4GM',
          'webhook-timestamp': String(timestamp),
          'webhook-signature': signWebhook(signingSecret, 'msg_01HZY2ZJQ8G7K42W2D7WF6V4GM', timestamp, body),
        };
        expect(verifier.verify(body.toString('utf8'), headers)).toEqual({ value: JSON.parse(JSON.stringify(value)) });
      }),
      { numRuns: 50 },
    );
  });

  it('does not verify under another secret, id or timestamp', () => {
    const { signingSecret } = generateWebhookSecrets();
    const other = generateWebhookSecrets().signingSecret;
    const body = Buffer.from('{"a":1}');
    const timestamp = Math.floor(Date.now() / 1000);
    const signature = signWebhook(signingSecret, 'msg_a', timestamp, body);
    const headers = { 'webhook-id': 'msg_a', 'webhook-timestamp': String(timestamp), 'webhook-signature': signature };
    expect(() => new Webhook(other).verify('{"a":1}', headers)).toThrow();
    expect(() => new Webhook(signingSecret).verify('{"a":1}', { ...headers, 'webhook-id': 'msg_b' })).toThrow();
    expect(() => new Webhook(signingSecret).verify('{"a":1}', { ...headers, 'webhook-timestamp': String(timestamp - 1) })).toThrow();
  });
});
