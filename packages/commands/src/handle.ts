import { foldState, type Decider } from '@handinger-webhooks/domain';
import type { EventStore, NewEvent, RecordedEvent } from '@handinger-webhooks/event-store';

/** The decided events, carrying `metadata` when there is any. */
export const withMetadata = <E>(events: E[], metadata: Record<string, unknown> | undefined): NewEvent<E & { type: string; data: unknown }>[] =>
  (metadata ? events.map((e) => ({ ...e, metadata })) : events) as NewEvent<E & { type: string; data: unknown }>[];

/**
 * The one way a command reaches the log: read the stream, fold its state,
 * decide, and append what was decided at the version that was read (inline
 * projections run in the same transaction). Must run inside a transaction
 * so the read and the append see the same stream. Returns the appended
 * events; none when the command changed nothing. (`Commands` adds a cache
 * of folded states on top of this for its group-committed commands.)
 */
export function handle<State, Command, Event extends { type: string; data: unknown }>(
  store: EventStore,
  decider: Decider<State, Command, Event>,
  streamId: string,
  command: Command,
  metadata?: Record<string, unknown>,
): RecordedEvent<Event>[] {
  const past = store.readStream<Event>(streamId);
  const events = decider.decide(command, foldState(decider, past));
  if (events.length === 0) return [];
  return store.append<Event>(streamId, withMetadata(events, metadata), past.length, { versionIsKnown: store.db.inTransaction })
    .events;
}
