import type { Webhook, WorkerTemplate } from '@handinger-webhooks/contracts';
import type { WebhookRow, WorkerRow } from '@handinger-webhooks/projections';
import { openWebhookSecrets, type SecretBox } from '@handinger-webhooks/secrets';

/**
 * The one place read-model rows (snake_case, internal columns) become the
 * public models of SPEC §3 (camelCase, nothing more).
 */

/** A worker as `POST /api/workers` returns it; `url` points at the dashboard. */
export function toWorkerTemplate(row: WorkerRow, dashboardUrl: string): WorkerTemplate {
  return {
    id: row.id,
    createdAt: row.created_at,
    instructions: row.instructions,
    organizationId: row.organization_id,
    outputSchema: null,
    summary: row.summary,
    title: row.title,
    updatedAt: row.updated_at,
    url: `${dashboardUrl}/workers/${row.id}`,
    userId: row.user_id,
    visibility: row.visibility,
  };
}

/** A worker's webhook, its secrets opened (they are stored sealed); every field `null` when none is configured. */
export function toWebhook(row: WebhookRow | undefined, secretBox: SecretBox): Webhook {
  if (!row) return { token: null, url: null, signingSecret: null };
  const { token, signingSecret } = openWebhookSecrets(secretBox, row.worker_id, { token: row.token, signingSecret: row.signing_secret });
  return { token, url: row.url, signingSecret };
}
