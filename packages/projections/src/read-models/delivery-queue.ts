import type { DomainEvent } from '@handinger-webhooks/contracts';
import type { RecordedEvent, SqliteDatabase } from '@handinger-webhooks/event-store';
import type { TableSet } from '../tables.js';
import type { Projection } from './projection.js';

/**
 * Pending attempts with their due time: the durable schedule the delivery app
 * claims from, keyed by (due_at, delivery_id). Each delivery event carries the
 * due time of the attempt it concerns, so the row is found by its key. A
 * removed webhook's rows stay until due; the delivery app then drops them
 * with an explicit DeliveryDropped, so every delivery stream ends in an event.
 */
export function deliveryQueueProjector(db: SqliteDatabase, t: TableSet): Projection {
  const schedule = db.prepare(
    `INSERT INTO ${t.deliveryQueue} (due_at, delivery_id, worker_id, task_id, attempt, webhook_generation) VALUES (?, ?, ?, ?, 1, ?)`,
  );
  const reschedule = db.prepare(`UPDATE ${t.deliveryQueue} SET due_at = ?, attempt = ? WHERE due_at = ? AND delivery_id = ?`);
  const finish = db.prepare(`DELETE FROM ${t.deliveryQueue} WHERE due_at = ? AND delivery_id = ?`);

  return {
    handles: ['DeliveryScheduled', 'DeliveryAttempted', 'DeliveryDropped'],
    project(event: RecordedEvent<DomainEvent>): void {
      switch (event.type) {
        case 'DeliveryScheduled': {
          const d = event.data;
          schedule.run(Date.parse(d.dueAt), d.deliveryId, d.workerId, d.taskId, d.webhookGeneration);
          break;
        }
        case 'DeliveryAttempted': {
          const d = event.data;
          if (d.nextAttemptAt === null) finish.run(Date.parse(d.dueAt), d.deliveryId);
          else reschedule.run(Date.parse(d.nextAttemptAt), d.attempt + 1, Date.parse(d.dueAt), d.deliveryId);
          break;
        }
        case 'DeliveryDropped':
          finish.run(Date.parse(event.data.dueAt), event.data.deliveryId);
          break;
      }
    },
  };
}
