import type { DomainEvent, DomainEventType } from '@handinger-webhooks/contracts';
import type { RecordedEvent } from '@handinger-webhooks/event-store';

/** One read model's projector: the event types it reads, and how it applies one. */
export interface Projection {
  handles: readonly DomainEventType[];
  project(event: RecordedEvent<DomainEvent>): void;
}
