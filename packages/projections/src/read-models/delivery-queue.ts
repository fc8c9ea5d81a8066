import type { DomainEvent } from '@handinger-webhooks/contracts';
import type { RecordedEvent, SqliteDatabase } from '@handinger-webhooks/event-store';
import type { TableSet } from '../tables.js';

export interface DeliveryQueueRow {
  delivery_id: string;
  worker_id: string;
  task_id: string;
  attempt: number;
  due_at: number;
  webhook_generation: number;
}

/**
 * Pending attempts with their due time: the durable schedule the delivery app
 * claims from. Removing a webhook (or its worker) drops the worker's pending
 * attempts; an attempt in flight at that moment updates no row, so it ends there.
 */
export function deliveryQueueProjector(db: SqliteDatabase, t: TableSet) {
  const schedule = db.prepare(
    `INSERT INTO ${t.deliveryQueue} (delivery_id, worker_id, task_id, attempt, due_at, webhook_generation) VALUES (?, ?, ?, 1, ?, ?)`,
  );
  const reschedule = db.prepare(`UPDATE ${t.deliveryQueue} SET attempt = ?, due_at = ? WHERE delivery_id = ?`);
  const finish = db.prepare(`DELETE FROM ${t.deliveryQueue} WHERE delivery_id = ?`);
  const dropWorker = db.prepare(`DELETE FROM ${t.deliveryQueue} WHERE worker_id = ?`);

  return (event: RecordedEvent<DomainEvent>): void => {
    switch (event.type) {
      case 'DeliveryScheduled': {
        const d = event.data;
        schedule.run(d.deliveryId, d.workerId, d.taskId, Date.parse(d.dueAt), d.webhookGeneration);
        break;
      }
      case 'DeliveryAttempted': {
        const d = event.data;
        if (d.nextAttemptAt === null) finish.run(d.deliveryId);
        else reschedule.run(d.attempt + 1, Date.parse(d.nextAttemptAt), d.deliveryId);
        break;
      }
      case 'DeliveryDropped':
        finish.run(event.data.deliveryId);
        break;
      case 'WebhookRemoved':
        dropWorker.run(event.data.workerId);
        break;
    }
  };
}
