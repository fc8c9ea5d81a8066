import type { Webhook, WorkerTemplate } from '@handinger-webhooks/contracts';
import type { WebhookRow, WorkerRow } from '@handinger-webhooks/projections';

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

/** A worker's webhook; every field `null` when none is configured. */
export function toWebhook(row: WebhookRow | undefined): Webhook {
  return row ? { token: row.token, url: row.url, signingSecret: row.signing_secret } : { token: null, url: null, signingSecret: null };
}
