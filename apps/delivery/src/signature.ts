import { createHmac } from 'node:crypto';

const SECRET_PREFIX = 'whsec_';

/**
 * The Standard Webhooks `webhook-signature` header value: `v1,` + base64
 * HMAC-SHA256 over `<id>.<timestamp>.<body>`, keyed by the base64-decoded
 * part of the signing secret after `whsec_`. Receivers verify it with the
 * `standardwebhooks` package; the secret itself is never sent.
 */
export function signWebhook(signingSecret: string, webhookId: string, timestampSeconds: number, body: Buffer): string {
  const key = Buffer.from(
    signingSecret.startsWith(SECRET_PREFIX) ? signingSecret.slice(SECRET_PREFIX.length) : signingSecret,
    'base64',
  );
  const digest = createHmac('sha256', key).update(`${webhookId}.${timestampSeconds}.`).update(body).digest('base64');
  return `v1,${digest}`;
}
