import { DomainError, foldState, type Decider } from '@handinger-webhooks/domain';
import { ConcurrencyError, type EventStore, type RecordedEvent } from '@handinger-webhooks/event-store';
import { withMetadata } from './handle.js';
import type { StreamStateCache } from './stream-state-cache.js';

/**
 * `handle` with the stream's folded state taken from the cache when it is
 * there. A cached state may lag behind the log (another process wrote), so
 * anything decided from it is confirmed: an append at its version collides on
 * the unique index if the stream moved on, and a no-op or a rejection is
 * checked against the stream's version; either way a stale state is dropped
 * and the command decided again from the log. Run inside GroupCommit, whose
 * boundaries the cache follows.
 */
export function cachedHandle<State, Command, Event extends { type: string; data: unknown }>(
  store: EventStore,
  cache: StreamStateCache,
  decider: Decider<State, Command, Event>,
  streamId: string,
  command: Command,
  metadata?: Record<string, unknown>,
): RecordedEvent<Event>[] {
  const cached = cache.get(streamId);
  if (cached !== undefined && cached.decider === decider) {
    const state = cached.state as State;
    let events: Event[] | undefined;
    try {
      events = decider.decide(command, state);
    } catch (error) {
      if (!(error instanceof DomainError) || store.streamVersion(streamId) === cached.version) throw error;
    }
    if (events !== undefined && events.length === 0 && store.streamVersion(streamId) === cached.version) return [];
    if (events !== undefined && events.length > 0) {
      try {
        const recorded = store.append<Event>(streamId, withMetadata(events, metadata), cached.version, { versionIsKnown: true });
        cache.stage(streamId, { decider, version: cached.version + events.length, state: events.reduce(decider.evolve, state) });
        return recorded.events;
      } catch (error) {
        if (!(error instanceof ConcurrencyError)) throw error;
      }
    }
    cache.forget(streamId); // stale: decide again from the log
  }

  const past = store.readStream<Event>(streamId);
  const state = foldState(decider, past);
  const events = decider.decide(command, state);
  if (events.length === 0) {
    cache.stage(streamId, { decider, version: past.length, state });
    return [];
  }
  const recorded = store.append<Event>(streamId, withMetadata(events, metadata), past.length, { versionIsKnown: true });
  cache.stage(streamId, { decider, version: past.length + events.length, state: events.reduce(decider.evolve, state) });
  return recorded.events;
}
