import type { DomainEvent } from '@handinger-webhooks/contracts';
import type { RecordedEvent, SqliteDatabase } from '@handinger-webhooks/event-store';
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
export function workersProjector(db: SqliteDatabase, t: TableSet): Projection {
  const insert = db.prepare(
    `INSERT INTO ${t.workers} (id, organization_id, user_id, title, instructions, summary, visibility, created_at, updated_at)
     VALUES (@workerId, @organizationId, @userId, @title, @instructions, @summary, @visibility, @createdAt, @createdAt)`,
  );
  const markDeleted = db.prepare(`UPDATE ${t.workers} SET deleted_at = ?, updated_at = ? WHERE id = ?`);

  return {
    handles: ['WorkerCreated', 'WorkerDeleted'],
    project(event: RecordedEvent<DomainEvent>): void {
      switch (event.type) {
        case 'WorkerCreated':
          insert.run(event.data);
          break;
        case 'WorkerDeleted':
          markDeleted.run(event.data.deletedAt, event.data.deletedAt, event.data.workerId);
          break;
      }
    },
  };
}
