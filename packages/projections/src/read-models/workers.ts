import type { DomainEvent } from '@handinger-webhooks/contracts';
import type { RecordedEvent, TxSql } from '@handinger-webhooks/event-store';
import type { TableSet } from '../tables.js';
import type { Projection } from './projection.js';

export interface WorkerRow {
  id: string;
  organization_id: string;
  user_id: string;
  title: string;
  instructions: string;
  summary: string;
  visibility: 'public' | 'private';
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
}

/** Workers by id, kept after deletion (`deleted_at`) so the API can answer 404 without a log scan. */
export function workersProjector(t: TableSet): Projection {
  const insert = `INSERT INTO ${t.workers} (id, organization_id, user_id, title, instructions, summary, visibility, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`;
  const markDeleted = `UPDATE ${t.workers} SET deleted_at = ?, updated_at = ? WHERE id = ?`;

  return {
    handles: ['WorkerCreated', 'WorkerDeleted'],
    async project(tx: TxSql, event: RecordedEvent<DomainEvent>): Promise<void> {
      switch (event.type) {
        case 'WorkerCreated': {
          const d = event.data;
          await tx.run(insert, [d.workerId, d.organizationId, d.userId, d.title, d.instructions, d.summary, d.visibility, d.createdAt, d.createdAt]);
          break;
        }
        case 'WorkerDeleted':
          await tx.run(markDeleted, [event.data.deletedAt, event.data.deletedAt, event.data.workerId]);
          break;
      }
    },
  };
}
