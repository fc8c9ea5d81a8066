import type { DomainEvent, DomainEventType } from '@handinger-webhooks/contracts';
import type { RecordedEvent, TxSql } from '@handinger-webhooks/event-store';

/** One read model's projector: the event types it reads, and how it applies one inside the append's transaction. */
export interface Projection {
  handles: readonly DomainEventType[];
  project(tx: TxSql, event: RecordedEvent<DomainEvent>): Promise<void>;
}
