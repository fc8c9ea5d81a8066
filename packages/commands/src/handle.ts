import { foldState, type Decider } from '@handinger-webhooks/domain';
import type { EventLog, NewEvent, RecordedEvent, TxSql } from '@handinger-webhooks/event-store';

/** The decided events, carrying `metadata` when there is any (a literal, not a spread: every recording passes here). */
export const withMetadata = <E extends { type: string; data: unknown }>(events: E[], metadata: Record<string, unknown> | undefined): NewEvent<E>[] =>
  (metadata ? events.map((e) => ({ type: e.type, data: e.data, metadata })) : events) as NewEvent<E>[];

/**
 * The one way a command reaches the log: read the stream, fold its state,
 * decide, and append what was decided at the version that was read (inline
 * projections run in the same transaction). Returns the appended events;
 * none when the command changed nothing. A writer that appended meanwhile
 * makes the append throw `ConcurrencyError`; the command runner retries.
 */
export async function handle<State, Command, Event extends { type: string; data: unknown }>(
  tx: TxSql,
  log: EventLog,
  decider: Decider<State, Command, Event>,
  streamId: string,
  command: Command,
  metadata?: Record<string, unknown>,
): Promise<RecordedEvent<Event>[]> {
  const past = await log.readStream<Event>(tx, streamId);
  return decideAndAppend(tx, log, decider, streamId, command, { state: foldState(decider, past), version: past.length }, metadata);
}

/** `handle` from a state the caller already knows (a snapshot), at the version it was taken at. */
export async function decideAndAppend<State, Command, Event extends { type: string; data: unknown }>(
  tx: TxSql,
  log: EventLog,
  decider: Decider<State, Command, Event>,
  streamId: string,
  command: Command,
  known: { state: State; version: number },
  metadata?: Record<string, unknown>,
): Promise<RecordedEvent<Event>[]> {
  const events = decider.decide(command, known.state);
  if (events.length === 0) return [];
  return (await log.append<Event>(tx, streamId, withMetadata(events, metadata), known.version, { versionIsKnown: true })).events;
}
