import { attemptResultOf, type DomainEvent } from '@handinger-webhooks/contracts';
import type { RecordedEvent, TxSql } from '@handinger-webhooks/event-store';
import type { TableSet } from '../tables.js';
import { DELIVERY_WORK_SIGNAL } from './delivery-queue.js';
import type { Projection } from './projection.js';

export interface WebhookRow {
  worker_id: string;
  url: string;
  origin: string;
  /** Sealed (SPEC §7): open with the secret box. */
  token: string;
  /** Sealed (SPEC §7): open with the secret box. */
  signing_secret: string;
  generation: number;
  updated_at: string;
  /** Sealed; signs beside the current secret until `previous_secret_expires_at` (SPEC §8.1). */
  previous_signing_secret: string | null;
  previous_secret_expires_at: string | null;
  status: 'active' | 'disabled';
  disabled_reason: 'manual' | 'failing' | null;
  disabled_at: string | null;
  held_count: number;
  /** Start of the current run of failed attempts (SPEC §8.5), `null` after a success, a new URL or an enable. */
  failing_since: string | null;
  /** Whether a notification exhausted its retries since `failing_since` (1/0). */
  exhausted_in_span: number;
}

/** `scheme://host:port`, the unit of the per-origin delivery cap. */
export const originOf = (url: string): string => new URL(url).origin;

/**
 * The current webhook of each worker; no row when none is configured. It
 * also keeps the failure span the automatic disable of SPEC §8.5 is decided
 * from, read off the attempts' own times (never a clock), so a rebuild gives
 * the same span. The held count is kept by the delivery queue projection,
 * which moves the held rows.
 */
export function webhooksProjector(t: TableSet): Projection {
  const configure = `INSERT INTO ${t.webhooks}
       (worker_id, url, origin, token, signing_secret, generation, updated_at, status, held_count, exhausted_in_span)
     VALUES (?, ?, ?, ?, ?, ?, ?, 'active', 0, 0)`;
  const changeUrl = `UPDATE ${t.webhooks} SET url = ?, origin = ?, updated_at = ?, failing_since = NULL, exhausted_in_span = 0 WHERE worker_id = ?`;
  const rotate = `UPDATE ${t.webhooks} SET token = ?, signing_secret = ?, previous_signing_secret = ?, previous_secret_expires_at = ?, updated_at = ? WHERE worker_id = ?`;
  const remove = `DELETE FROM ${t.webhooks} WHERE worker_id = ?`;
  const disable = `UPDATE ${t.webhooks} SET status = 'disabled', disabled_reason = ?, disabled_at = ?, updated_at = ? WHERE worker_id = ?`;
  const enable = `UPDATE ${t.webhooks} SET status = 'active', disabled_reason = NULL, disabled_at = NULL, failing_since = NULL, exhausted_in_span = 0, updated_at = ?
     WHERE worker_id = ?`;
  // A success ends the span (no write when none is open: the hot path's usual case).
  const succeeded = `UPDATE ${t.webhooks} SET failing_since = NULL, exhausted_in_span = 0 WHERE worker_id = ? AND failing_since IS NOT NULL`;
  const failed = `UPDATE ${t.webhooks} SET failing_since = COALESCE(failing_since, ?), exhausted_in_span = CASE WHEN ? = 1 THEN 1 ELSE exhausted_in_span END
     WHERE worker_id = ?`;

  return {
    handles: ['WebhookConfigured', 'WebhookUrlChanged', 'WebhookTokenRotated', 'WebhookRemoved', 'WebhookDisabled', 'WebhookEnabled', 'DeliveryAttempted'],
    async project(tx: TxSql, event: RecordedEvent<DomainEvent>): Promise<void> {
      switch (event.type) {
        case 'WebhookConfigured': {
          const d = event.data;
          await tx.run(configure, [d.workerId, d.url, originOf(d.url), d.token, d.signingSecret, event.globalPosition, d.configuredAt]);
          break;
        }
        case 'WebhookUrlChanged':
          await tx.run(changeUrl, [event.data.url, originOf(event.data.url), event.data.changedAt, event.data.workerId]);
          // Pending attempts now go to another origin, which may have free slots: the delivery loop looks again.
          tx.signalAfterCommit(DELIVERY_WORK_SIGNAL);
          break;
        case 'WebhookTokenRotated': {
          const d = event.data;
          await tx.run(rotate, [d.token, d.signingSecret, d.previousSigningSecret ?? null, d.previousSigningSecretExpiresAt ?? null, d.rotatedAt, d.workerId]);
          break;
        }
        case 'WebhookRemoved':
          await tx.run(remove, [event.data.workerId]);
          tx.signalAfterCommit(DELIVERY_WORK_SIGNAL); // its pending deliveries are to be dropped
          break;
        case 'WebhookDisabled':
          await tx.run(disable, [event.data.reason, event.data.disabledAt, event.data.disabledAt, event.data.workerId]);
          break;
        case 'WebhookEnabled':
          await tx.run(enable, [event.data.enabledAt, event.data.workerId]);
          break;
        case 'DeliveryAttempted': {
          const d = event.data;
          const result = attemptResultOf(d);
          if (result === 'superseded') break;
          if (d.requestStatus === 'success') await tx.run(succeeded, [d.workerId]);
          else await tx.run(failed, [d.startedAt, result === 'exhausted' ? 1 : 0, d.workerId]);
          break;
        }
      }
    },
  };
}
