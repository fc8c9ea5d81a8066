import type { DomainEvent } from '@handinger-webhooks/contracts';
import type { RecordedEvent, SqliteDatabase } from '@handinger-webhooks/event-store';
import { apiKeysProjector } from './read-models/api-keys.js';
import { deliveryQueueProjector } from './read-models/delivery-queue.js';
import { executionsProjector } from './read-models/executions.js';
import { webhooksProjector } from './read-models/webhooks.js';
import { workersProjector } from './read-models/workers.js';
import type { TableSet } from './tables.js';

/**
 * Every read model's projector over one table set, as the single function the
 * event store calls inside each append (inline) and a rebuild calls per batch.
 * Statements are prepared here, once.
 */
export function createProjector(db: SqliteDatabase, tables: TableSet): (events: readonly RecordedEvent[]) => void {
  const projectors = [
    workersProjector(db, tables),
    webhooksProjector(db, tables),
    apiKeysProjector(db, tables),
    executionsProjector(db, tables),
    deliveryQueueProjector(db, tables),
  ];
  return (events) => {
    for (const event of events) {
      for (const project of projectors) project(event as RecordedEvent<DomainEvent>);
    }
  };
}
