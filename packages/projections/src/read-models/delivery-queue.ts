import type { DomainEvent } from '@handinger-webhooks/contracts';
import type { RecordedEvent, TxSql } from '@handinger-webhooks/event-store';
import type { TableSet } from '../tables.js';
import type { Projection } from './projection.js';

/** Raised after a commit that put work in the queue: the delivery loop looks at once (other processes poll, or hear it through NOTIFY). */
export const DELIVERY_WORK_SIGNAL = 'delivery-work';

/** Metadata key of the claim an attempt was made under (see the fence below). */
export const CLAIM_METADATA = 'claim';

const claimOf = (event: RecordedEvent): string | null => {
  const claim = event.metadata[CLAIM_METADATA];
  return typeof claim === 'string' ? claim : null;
};

/**
 * The pending deliveries, one row each holding its next attempt: the
 * projection of the delivery streams (this file) plus the live claims of
 * the processes sending them (`delivery-claims.ts`, same table, same
 * package). Every delivery event carries enough to find and rewrite its row.
 *
 * The fence: an event recorded under a claim (its metadata names the claim
 * token) rewrites the row only if the row is unclaimed or held by that very
 * claim. A process whose lease lapsed, and whose attempt another process
 * has claimed meanwhile, still records its execution but leaves the row to
 * the current holder, which settles it to the stream's state when it
 * records. A rebuild starts with no claims, so it always applies.
 */
export function deliveryQueueProjector(t: TableSet): Projection {
  const schedule = `INSERT INTO ${t.deliveryQueue} (delivery_id, worker_id, task_id, task_position, generation, attempt, due_at, version)
     VALUES (?, ?, ?, ?, ?, 1, ?, ?)`;
  const fence = '(CAST(? AS text) IS NULL OR claim_token IS NULL OR claim_token = ?)';
  const settle = `UPDATE ${t.deliveryQueue}
     SET attempt = ?, due_at = ?, version = ?, claim_token = NULL, claim_owner = NULL, claim_origin = NULL, claim_expires_at = NULL
     WHERE delivery_id = ? AND ${fence}`;
  const finish = `DELETE FROM ${t.deliveryQueue} WHERE delivery_id = ? AND ${fence}`;

  return {
    handles: ['DeliveryScheduled', 'DeliveryAttempted', 'DeliveryDropped'],
    async project(tx: TxSql, event: RecordedEvent<DomainEvent>): Promise<void> {
      const claim = claimOf(event);
      switch (event.type) {
        case 'DeliveryScheduled': {
          const d = event.data;
          await tx.run(schedule, [d.deliveryId, d.workerId, d.taskId, d.taskPosition ?? 0, d.webhookGeneration, Date.parse(d.dueAt), event.streamPosition]);
          tx.signalAfterCommit(DELIVERY_WORK_SIGNAL);
          break;
        }
        case 'DeliveryAttempted': {
          const d = event.data;
          if (d.nextAttemptAt === null) {
            await tx.run(finish, [d.deliveryId, claim, claim]);
          } else {
            await tx.run(settle, [d.nextAttempt ?? d.attempt + 1, Date.parse(d.nextAttemptAt), event.streamPosition, d.deliveryId, claim, claim]);
            tx.signalAfterCommit(DELIVERY_WORK_SIGNAL);
          }
          break;
        }
        case 'DeliveryDropped':
          await tx.run(finish, [event.data.deliveryId, claim, claim]);
          break;
      }
    },
  };
}
