import type { DomainEvent, DomainEventType } from '@handinger-webhooks/contracts';
import type { RecordedEvent, TxSql } from '@handinger-webhooks/event-store';
import { apiKeysProjector } from './read-models/api-keys.js';
import { deliveryQueueProjector } from './read-models/delivery-queue.js';
import { executionsProjector } from './read-models/executions.js';
import { failedDeliveriesProjector, recoveriesProjector } from './read-models/recoveries.js';
import { portalSessionsProjector } from './read-models/portal-sessions.js';
import type { Projection } from './read-models/projection.js';
import { webhooksProjector } from './read-models/webhooks.js';
import { workersProjector } from './read-models/workers.js';
import type { TableSet } from './tables.js';

export interface ProjectorOptions {
  /**
   * Nobody else writes these tables while this projector lives (a rebuild's
   * aside tables, under its lease): a projection may remember what it wrote
   * instead of reading it back.
   */
  exclusive?: boolean;
}

/**
 * Every read model's projector over one table set, as the single function the
 * event log calls inside each append (inline) and a rebuild calls per batch.
 * Each event goes only to the projections that read its type.
 */
export function createProjector(tables: TableSet, options: ProjectorOptions = {}): (tx: TxSql, events: readonly RecordedEvent[]) => Promise<void> {
  const projections: Projection[] = [
    workersProjector(tables),
    webhooksProjector(tables),
    apiKeysProjector(tables),
    executionsProjector(tables, { rememberNewest: options.exclusive ?? false }),
    deliveryQueueProjector(tables),
    failedDeliveriesProjector(tables),
    recoveriesProjector(tables),
    portalSessionsProjector(tables),
  ];
  const byType = new Map<string, Projection[]>();
  for (const projection of projections) {
    for (const type of projection.handles) byType.set(type, [...(byType.get(type) ?? []), projection]);
  }
  return async (tx, events) => {
    for (const event of events) {
      const targets = byType.get(event.type as DomainEventType);
      if (targets === undefined) continue;
      for (const projection of targets) await projection.project(tx, event as RecordedEvent<DomainEvent>);
    }
  };
}
