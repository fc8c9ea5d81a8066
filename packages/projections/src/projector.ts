import type { DomainEvent, DomainEventType } from '@handinger-webhooks/contracts';
import type { RecordedEvent, SqliteDatabase } from '@handinger-webhooks/event-store';
import { apiKeysProjector } from './read-models/api-keys.js';
import { deliveryQueueProjector } from './read-models/delivery-queue.js';
import { executionsProjector } from './read-models/executions.js';
import type { Projection } from './read-models/projection.js';
import { webhooksProjector } from './read-models/webhooks.js';
import { workersProjector } from './read-models/workers.js';
import type { TableSet } from './tables.js';

/**
 * Every read model's projector over one table set, as the single function the
 * event store calls inside each append (inline) and a rebuild calls per batch.
 * Statements are prepared here, once, and each event goes only to the
 * projections that read its type.
 */
export function createProjector(db: SqliteDatabase, tables: TableSet): (events: readonly RecordedEvent[]) => void {
  const projections: Projection[] = [
    workersProjector(db, tables),
    webhooksProjector(db, tables),
    apiKeysProjector(db, tables),
    executionsProjector(db, tables),
    deliveryQueueProjector(db, tables),
  ];
  const byType = new Map<string, Projection[]>();
  for (const projection of projections) {
    for (const type of projection.handles) byType.set(type, [...(byType.get(type) ?? []), projection]);
  }
  return (events) => {
    for (const event of events) {
      const targets = byType.get(event.type as DomainEventType);
      if (targets === undefined) continue;
      for (const projection of targets) projection.project(event as RecordedEvent<DomainEvent>);
    }
  };
}
