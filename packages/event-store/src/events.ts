/** An event to append: its type, JSON data and optional metadata (who caused it, under which claim). */
export interface NewEvent<E extends { type: string; data: unknown } = { type: string; data: unknown }> {
  type: E['type'];
  data: E['data'];
  metadata?: Record<string, unknown>;
}

/** An event as the log holds it. */
export type RecordedEvent<E extends { type: string; data: unknown } = { type: string; data: unknown }> = E & {
  metadata: Record<string, unknown>;
  streamId: string;
  /** 1-based position within its stream. */
  streamPosition: number;
  /** Position in the whole log: unique and increasing, but (PostgreSQL) not necessarily committed in this order. */
  globalPosition: number;
  recordedAt: string;
};

/**
 * `number`: the stream must be at exactly this version (its number of events; 0 = no events yet).
 * `'any'`: append whatever the version.
 */
export type ExpectedVersion = number | 'any';

/** Another writer appended to the stream since the caller read it. */
export class ConcurrencyError extends Error {
  constructor(
    readonly streamId: string,
    readonly expectedVersion: number,
    readonly actualVersion: number,
  ) {
    super(`stream ${streamId} is at version ${actualVersion}, expected ${expectedVersion}`);
    this.name = 'ConcurrencyError';
  }
}

export interface AppendResult<E extends { type: string; data: unknown }> {
  /** The stream's version after the append: pass it as the next expected version. */
  nextExpectedVersion: number;
  events: RecordedEvent<E>[];
}

/** The row of an event, as both backends store it. */
export interface EventRow {
  global_position: number;
  stream_id: string;
  stream_position: number;
  type: string;
  data: string;
  metadata: string;
  recorded_at: string;
}

/** Shared by events appended without metadata (most of them): stored as '{}' without serializing. */
export const EMPTY_METADATA: Record<string, unknown> = Object.freeze({}) as Record<string, unknown>;

export const toRecorded = (row: EventRow): RecordedEvent => ({
  type: row.type,
  data: JSON.parse(row.data),
  metadata: row.metadata === '{}' ? EMPTY_METADATA : JSON.parse(row.metadata),
  streamId: row.stream_id,
  streamPosition: row.stream_position,
  globalPosition: row.global_position,
  recordedAt: row.recorded_at,
});
