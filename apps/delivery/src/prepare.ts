import { notificationHeaders, type HeaderList } from '@handinger-webhooks/contracts';
import type { ClaimedAttempt } from '@handinger-webhooks/projections';
import { openSigningSecret, openWebhookSecrets, type SecretBox } from '@handinger-webhooks/secrets';
import type { Notification } from './notifications.js';
import { signWebhook } from './signature.js';

/** One attempt ready for the wire: the request, and the claim it is made under. */
export interface PreparedAttempt {
  claim: ClaimedAttempt;
  url: string;
  headers: HeaderList;
  body: Buffer;
  taskTitle: string | null;
  /** When the attempt started (epoch ms): its `webhook-timestamp`, and the execution's `createdAt`. */
  startedAtMs: number;
}

/** What signing a request needs of a webhook: its secrets as stored (sealed). */
export type SigningWebhook = Pick<ClaimedAttempt, 'workerId' | 'token' | 'signingSecret' | 'previousSigningSecret' | 'previousSigningSecretExpiresAt'>;

/**
 * The headers of SPEC §5 for one request of notification `webhookId`, with
 * the webhook's secrets as they are now (opened from their sealed form) and
 * the Standard Webhooks signature over this request's timestamp. During a
 * rotation's overlap window the previous secret signs too, after the new
 * one, space-separated (SPEC §8.1): a receiver verifies with either.
 */
export function signedHeaders(webhook: SigningWebhook, webhookId: string, body: Buffer, secretBox: SecretBox, userAgent: string, nowMs: number): HeaderList {
  const { token, signingSecret } = openWebhookSecrets(secretBox, webhook.workerId, { token: webhook.token, signingSecret: webhook.signingSecret });
  const timestamp = Math.floor(nowMs / 1000);
  let signature = signWebhook(signingSecret, webhookId, timestamp, body);
  if (webhook.previousSigningSecret !== null && webhook.previousSigningSecretExpiresAt !== null && nowMs < webhook.previousSigningSecretExpiresAt) {
    const previous = openSigningSecret(secretBox, webhook.workerId, webhook.previousSigningSecret);
    signature = `${signature} ${signWebhook(previous, webhookId, timestamp, body)}`;
  }
  return notificationHeaders({ userAgent, token, webhookId, timestampSeconds: timestamp, signature });
}

/** The prepare stage: one claimed attempt's request. */
export function prepareAttempt(claim: ClaimedAttempt, notification: Notification, secretBox: SecretBox, userAgent: string, nowMs: number): PreparedAttempt {
  return {
    claim,
    url: claim.url,
    headers: signedHeaders(claim, claim.deliveryId, notification.body, secretBox, userAgent, nowMs),
    body: notification.body,
    taskTitle: notification.taskTitle,
    startedAtMs: nowMs,
  };
}
