import { attemptResultOf, type DomainEvent } from '@handinger-webhooks/contracts';
import type { RecordedEvent, TxSql } from '@handinger-webhooks/event-store';
import type { TableSet } from '../tables.js';
import type { Projection } from './projection.js';

/** Raised after a commit that started a recovery: a delivery loop's recovery runner looks at once. */
export const RECOVERY_SIGNAL = 'recovery-work';

export interface FailedDeliveryRow {
  worker_id: string;
  first_attempted_at: string;
  delivery_id: string;
  failed_position: number;
}

export interface RecoveryRow {
  id: string;
  worker_id: string;
  since: string;
  until: string;
  total: number;
  selected_up_to: number;
  /** Resends the recovery made so far. */
  scheduled: number;
  /** Attempts of its resends recorded so far. */
  sent: number;
  /** How many it resent in all, once its scheduling ended (`null` while it runs). */
  resent: number | null;
  created_at: string;
  completed_at: string | null;
}

const ENDED_IN_FAILURE = new Set(['gone', 'exhausted', 'failed']);
const endOf = (d: { startedAt: string; durationMs: number }) => new Date(Date.parse(d.startedAt) + d.durationMs).toISOString();

/**
 * What a recovery selects from (SPEC §8.4): the notifications whose latest
 * attempt failed with nothing pending, by when they were first attempted,
 * with the log position of that failure (a recovery counts those failed by
 * its start). A resend takes the notification out; failing again puts it
 * back at a later position. Test notifications are not recovered.
 */
export function failedDeliveriesProjector(t: TableSet): Projection {
  const insert = `INSERT INTO ${t.failedDeliveries} (worker_id, first_attempted_at, delivery_id, failed_position) VALUES (?, ?, ?, ?)
     ON CONFLICT (delivery_id) DO UPDATE SET failed_position = excluded.failed_position`;
  const remove = `DELETE FROM ${t.failedDeliveries} WHERE delivery_id = ?`;
  return {
    handles: ['DeliveryAttempted', 'DeliveryResent'],
    async project(tx: TxSql, event: RecordedEvent<DomainEvent>): Promise<void> {
      if (event.type === 'DeliveryResent') {
        await tx.run(remove, [event.data.deliveryId]);
        return;
      }
      if (event.type !== 'DeliveryAttempted') return;
      const d = event.data;
      if (d.trigger === 'test' || !ENDED_IN_FAILURE.has(attemptResultOf(d))) return;
      await tx.run(insert, [d.workerId, d.firstAttemptedAt ?? d.startedAt, d.deliveryId, event.globalPosition]);
    },
  };
}

/**
 * Each recovery and its progress: what it resent (its `DeliveryResent`
 * events), what of that was sent (attempts naming it), and when it
 * completed — when its scheduling had ended and every resend was sent, at
 * the time of the event that made it so (never a clock). A removal of the
 * webhook completes its recoveries: what they had left is dropped.
 */
export function recoveriesProjector(t: TableSet): Projection {
  const start = `INSERT INTO ${t.recoveries} (id, worker_id, since, until, total, selected_up_to, scheduled, sent, created_at) VALUES (?, ?, ?, ?, ?, ?, 0, 0, ?)`;
  const scheduled = `UPDATE ${t.recoveries} SET scheduled = scheduled + 1 WHERE id = ?`;
  const sent = `UPDATE ${t.recoveries} SET sent = sent + 1 WHERE id = ?`;
  const finishScheduling = `UPDATE ${t.recoveries} SET resent = ? WHERE id = ?`;
  const complete = `UPDATE ${t.recoveries} SET completed_at = ? WHERE id = ? AND completed_at IS NULL AND resent IS NOT NULL AND sent >= resent`;
  const completeAll = `UPDATE ${t.recoveries} SET completed_at = ? WHERE worker_id = ? AND completed_at IS NULL`;
  return {
    handles: ['RecoveryStarted', 'RecoveryScheduled', 'DeliveryResent', 'DeliveryAttempted', 'WebhookRemoved'],
    async project(tx: TxSql, event: RecordedEvent<DomainEvent>): Promise<void> {
      switch (event.type) {
        case 'RecoveryStarted': {
          const d = event.data;
          await tx.run(start, [d.recoveryId, d.workerId, d.since, d.until, d.total, d.selectedUpTo, d.createdAt]);
          tx.signalAfterCommit(RECOVERY_SIGNAL);
          break;
        }
        case 'RecoveryScheduled':
          await tx.run(finishScheduling, [event.data.resent, event.data.recoveryId]);
          await tx.run(complete, [event.data.scheduledAt, event.data.recoveryId]);
          break;
        case 'DeliveryResent':
          if (event.data.recoveryId !== undefined) await tx.run(scheduled, [event.data.recoveryId]);
          break;
        case 'DeliveryAttempted': {
          const d = event.data;
          if (d.recoveryId === undefined || attemptResultOf(d) === 'superseded') break;
          await tx.run(sent, [d.recoveryId]);
          await tx.run(complete, [endOf(d), d.recoveryId]);
          break;
        }
        case 'WebhookRemoved':
          await tx.run(completeAll, [event.data.removedAt, event.data.workerId]);
          break;
      }
    },
  };
}
