import type { ClaimedAttempt } from '@handinger-webhooks/projections';
import { openWebhookSecrets, type SecretBox } from '@handinger-webhooks/secrets';
import type { Notification } from './notifications.js';
import { signWebhook } from './signature.js';

/** Request headers as undici takes them without conversion: name, value, name, value… (names in lower case). */
export type HeaderList = string[];

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

/**
 * The prepare stage: the headers of SPEC §5 for one claimed attempt, with
 * the webhook's secrets as they are now (opened from their sealed form) and
 * the Standard Webhooks signature over this attempt's timestamp.
 */
export function prepareAttempt(claim: ClaimedAttempt, notification: Notification, secretBox: SecretBox, userAgent: string, nowMs: number): PreparedAttempt {
  const { token, signingSecret } = openWebhookSecrets(secretBox, claim.workerId, { token: claim.token, signingSecret: claim.signingSecret });
  const timestamp = Math.floor(nowMs / 1000);
  return {
    claim,
    url: claim.url,
    headers: [
      'content-type', 'application/json',
      'user-agent', userAgent,
      'x-handinger-token', token,
      'webhook-id', claim.deliveryId,
      'webhook-timestamp', String(timestamp),
      'webhook-signature', signWebhook(signingSecret, claim.deliveryId, timestamp, notification.body),
    ],
    body: notification.body,
    taskTitle: notification.taskTitle,
    startedAtMs: nowMs,
  };
}
