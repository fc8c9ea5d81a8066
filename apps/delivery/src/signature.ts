import { createHmac } from 'node:crypto';

const SECRET_PREFIX = 'whsec_';

/** The last signing secret's decoded key: consecutive attempts mostly go to the same webhook. */
let lastSecret: string | undefined;
let lastKey: Buffer = Buffer.alloc(0);

function keyOf(signingSecret: string): Buffer {
  if (signingSecret !== lastSecret) {
    lastKey = Buffer.from(signingSecret.startsWith(SECRET_PREFIX) ? signingSecret.slice(SECRET_PREFIX.length) : signingSecret, 'base64');
    lastSecret = signingSecret;
  }
  return lastKey;
}

/**
 * The Standard Webhooks `webhook-signature` header value: `v1,` + base64
 * HMAC-SHA256 over `<id>.<timestamp>.<body>`, keyed by the base64-decoded
 * part of the signing secret after `whsec_`. Receivers verify it with the
 * `standardwebhooks` package; the secret itself is never sent.
 */
export function signWebhook(signingSecret: string, webhookId: string, timestampSeconds: number, body: Buffer): string {
  const digest = createHmac('sha256', keyOf(signingSecret)).update(`${webhookId}.${timestampSeconds}.`).update(body).digest('base64');
  return `v1,${digest}`;
}
