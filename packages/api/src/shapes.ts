import { NO_WEBHOOK, type Recovery, type Webhook, type WorkerTemplate } from '@handinger-webhooks/contracts';
import type { RecoveryView } from '@handinger-webhooks/commands';
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
export function toWebhook(row: WebhookRow | undefined, secretBox: SecretBox, now: Date = new Date()): Webhook {
  if (!row) return { ...NO_WEBHOOK };
  const { token, signingSecret } = openWebhookSecrets(secretBox, row.worker_id, { token: row.token, signingSecret: row.signing_secret });
  const windowEnds = row.previous_secret_expires_at;
  return {
    token,
    url: row.url,
    signingSecret,
    // The window is open until its end, read against the request's time (the read model keeps the end, not a flag a clock would have to clear).
    previousSigningSecretExpiresAt: windowEnds !== null && Date.parse(windowEnds) > now.getTime() ? windowEnds : null,
    status: row.status,
    disabledReason: row.disabled_reason,
    disabledAt: row.disabled_at,
    heldNotifications: Number(row.held_count),
  };
}

/** A recovery and its progress (SPEC §8.4); a dry run has no id. */
export function toRecovery(view: RecoveryView): Recovery {
  const row = view.row;
  if (row === null) return { id: null, status: 'dry-run', since: view.since, until: view.until, total: view.total, sent: 0, createdAt: null, completedAt: null };
  return {
    id: row.id,
    status: row.completed_at === null ? 'running' : 'completed',
    since: row.since,
    until: row.until,
    total: Number(row.total),
    sent: Number(row.sent),
    createdAt: row.created_at,
    completedAt: row.completed_at,
  };
}
