import type { DomainEvent } from '@handinger-webhooks/contracts';
import type { RecordedEvent, TxSql } from '@handinger-webhooks/event-store';
import { CLAIMS_TABLE } from '../schema.js';
import { LIVE_TABLES, type TableSet } from '../tables.js';
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
 * projection of the delivery streams. Each delivery event carries the due
 * time of the attempt it concerns, so its row is found by key (due_at,
 * delivery_id) and rescheduling moves it within one B-tree. The row always
 * follows its stream, so a rebuild gives exactly the live table.
 *
 * The fence is on the claim, not the schedule: an event recorded under a
 * claim (its metadata names the claim token) releases that claim only. A
 * process whose claim lapsed, and whose attempt another process has claimed
 * meanwhile, records its execution, and the stream's schedule moves on, but
 * the other process keeps its claim (it is still sending) until it records
 * or its claim lapses in turn.
 */
export function deliveryQueueProjector(t: TableSet): Projection {
  const schedule = `INSERT INTO ${t.deliveryQueue} (due_at, delivery_id, worker_id, task_id, task_position, generation, attempt, version, origin)
     VALUES (?, ?, ?, ?, ?, ?, 1, ?, (SELECT origin FROM ${t.webhooks} WHERE worker_id = ?))`;
  const reschedule = `UPDATE ${t.deliveryQueue} SET due_at = ?, attempt = ?, version = ? WHERE due_at = ? AND delivery_id = ?`;
  const finish = `DELETE FROM ${t.deliveryQueue} WHERE due_at = ? AND delivery_id = ?`;
  const release = `DELETE FROM ${CLAIMS_TABLE} WHERE delivery_id = ? AND token = ?`;
  // Claims are live state, not projections: projecting into a rebuild's aside tables leaves them alone.
  const live = t === LIVE_TABLES;

  return {
    handles: ['DeliveryScheduled', 'DeliveryAttempted', 'DeliveryDropped'],
    async project(tx: TxSql, event: RecordedEvent<DomainEvent>): Promise<void> {
      switch (event.type) {
        case 'DeliveryScheduled': {
          const d = event.data;
          await tx.run(schedule, [Date.parse(d.dueAt), d.deliveryId, d.workerId, d.taskId, d.taskPosition ?? 0, d.webhookGeneration, event.streamPosition, d.workerId]);
          tx.signalAfterCommit(DELIVERY_WORK_SIGNAL);
          break;
        }
        case 'DeliveryAttempted': {
          const d = event.data;
          // A superseded send changed nothing of the schedule: the attempt it repeated already moved the row.
          if (d.result === 'superseded') break;
          if (d.nextAttemptAt === null) {
            await tx.run(finish, [Date.parse(d.dueAt), d.deliveryId]);
          } else {
            await tx.run(reschedule, [Date.parse(d.nextAttemptAt), d.nextAttempt ?? d.attempt + 1, event.streamPosition, Date.parse(d.dueAt), d.deliveryId]);
            tx.signalAfterCommit(DELIVERY_WORK_SIGNAL);
          }
          break;
        }
        case 'DeliveryDropped':
          await tx.run(finish, [Date.parse(event.data.dueAt), event.data.deliveryId]);
          break;
      }
      const claim = claimOf(event);
      if (claim !== null && live) await tx.run(release, [(event.data as { deliveryId: string }).deliveryId, claim]);
    },
  };
}
