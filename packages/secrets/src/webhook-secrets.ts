import type { SecretBox } from './secret-box.js';

/** A webhook's two secrets (SPEC §5), in the clear or sealed. */
export interface WebhookSecretPair {
  token: string;
  signingSecret: string;
}

/** Each secret is bound to its worker and field, so a sealed value cannot be replayed elsewhere. */
const contexts = (workerId: string) => ({ token: `webhook-token:${workerId}`, signingSecret: `webhook-signing-secret:${workerId}` });

/** Seals a webhook's secrets for the log and the read models. */
export function sealWebhookSecrets(box: SecretBox, workerId: string, secrets: WebhookSecretPair): WebhookSecretPair {
  const c = contexts(workerId);
  return { token: box.seal(secrets.token, c.token), signingSecret: box.seal(secrets.signingSecret, c.signingSecret) };
}

/** Opens a webhook's sealed secrets (for the API's answer, or to sign a delivery). @throws SecretDecryptionError */
export function openWebhookSecrets(box: SecretBox, workerId: string, sealed: WebhookSecretPair): WebhookSecretPair {
  const c = contexts(workerId);
  return { token: box.open(sealed.token, c.token), signingSecret: box.open(sealed.signingSecret, c.signingSecret) };
}

/** Opens one sealed signing secret of the worker (the previous one of an overlap window, SPEC §8.1). @throws SecretDecryptionError */
export function openSigningSecret(box: SecretBox, workerId: string, sealed: string): string {
  return box.open(sealed, contexts(workerId).signingSecret);
}
