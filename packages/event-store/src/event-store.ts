import type { Statement } from 'better-sqlite3';
import type { Selectable } from 'kysely';
import type { SqliteDatabase } from './database.js';
import type { EventStoreTables } from './schema.js';

/** An event to append: its type, JSON data and optional metadata (who caused it, why). */
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
  /** 1-based position in the whole log; commits become visible in this order. */
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

export interface EventStoreOptions {
  /**
   * Called inside the append's transaction with the events just written:
   * inline projections, so a read after a successful write sees it. A throw
   * rolls the whole append back.
   */
  onAppended?: (events: RecordedEvent[]) => void;
  now?: () => Date;
}

type EventRow = Selectable<EventStoreTables['events']>;

const toRecorded = (row: EventRow): RecordedEvent => ({
  type: row.type,
  data: JSON.parse(row.data),
  metadata: JSON.parse(row.metadata),
  streamId: row.stream_id,
  streamPosition: row.stream_position,
  globalPosition: row.global_position,
  recordedAt: row.recorded_at,
});

const COLUMNS = 'global_position, stream_id, stream_position, type, data, metadata, recorded_at';

/** Shared by events appended without metadata (most of them): stored as '{}' without serializing. */
const EMPTY_METADATA: Record<string, unknown> = Object.freeze({}) as Record<string, unknown>;

const isUniqueViolation = (error: unknown): boolean =>
  error instanceof Error && (error as { code?: unknown }).code === 'SQLITE_CONSTRAINT_UNIQUE';

/**
 * The append-only event log on SQLite. Statements are prepared once: this is
 * the hot path of every command. Appends are serialized by SQLite's single
 * writer (`BEGIN IMMEDIATE`), so global positions become visible in order and a
 * subscriber reading "after position N" never skips a late commit.
 */
export class EventStore {
  readonly db: SqliteDatabase;
  private readonly onAppended: ((events: RecordedEvent[]) => void) | undefined;
  private readonly now: () => Date;
  private readonly listeners = new Set<() => void>();
  private appendedInTransaction = false;
  /** One reusable wrapper: better-sqlite3 makes it a savepoint when nested, and `.immediate` opens BEGIN IMMEDIATE. */
  private readonly runner: { <T>(fn: () => T): T; immediate<T>(fn: () => T): T };
  private readonly statements: {
    version: Statement<[string], { stream_position: number }>;
    insert: Statement<[string, number, string, string, string, string]>;
    readStream: Statement<[string], EventRow>;
    readAll: Statement<[number, number], EventRow>;
    readAllExcept: Statement<[number, number, string, number], EventRow>;
    head: Statement<[], { position: number | null }>;
  };

  constructor(db: SqliteDatabase, options: EventStoreOptions = {}) {
    this.db = db;
    this.onAppended = options.onAppended;
    this.now = options.now ?? (() => new Date());
    this.runner = db.transaction((fn: () => unknown) => fn()) as unknown as EventStore['runner'];
    this.statements = {
      version: db.prepare('SELECT stream_position FROM events WHERE stream_id = ? ORDER BY stream_position DESC LIMIT 1'),
      insert: db.prepare(
        'INSERT INTO events (stream_id, stream_position, type, data, metadata, recorded_at) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      readStream: db.prepare(`SELECT ${COLUMNS} FROM events WHERE stream_id = ? ORDER BY stream_position`),
      readAll: db.prepare(`SELECT ${COLUMNS} FROM events WHERE global_position > ? ORDER BY global_position LIMIT ?`),
      readAllExcept: db.prepare(
        `SELECT ${COLUMNS} FROM events
         WHERE global_position > ? AND global_position <= ? AND type NOT IN (SELECT value FROM json_each(?))
         ORDER BY global_position LIMIT ?`,
      ),
      head: db.prepare('SELECT MAX(global_position) AS position FROM events'),
    };
  }

  /**
   * Runs `fn` in one `BEGIN IMMEDIATE` transaction (a savepoint when nested),
   * so a command's reads, appends and projections commit or roll back as one.
   * Subscribers are woken after the outermost commit.
   */
  transaction<T>(fn: () => T): T {
    if (this.db.inTransaction) return this.runner(fn);
    this.appendedInTransaction = false;
    try {
      const result = this.runner.immediate(fn);
      if (this.appendedInTransaction) this.notify();
      return result;
    } finally {
      this.appendedInTransaction = false;
    }
  }

  /** The stream's version: its number of events, 0 when it has none. */
  streamVersion(streamId: string): number {
    return this.statements.version.get(streamId)?.stream_position ?? 0;
  }

  /**
   * Appends events to one stream if it is at `expectedVersion`, then runs the
   * inline projections. Inside a transaction it joins it (a failure leaves the
   * rollback to that transaction, as GroupCommit's per-command savepoints do);
   * otherwise it runs in its own.
   *
   * With `versionIsKnown`, the caller vouches that the stream had
   * `expectedVersion` events when it last looked (it read them, or it wrote
   * them and committed): the version is then not read again, and a writer
   * that appended meanwhile is caught by the unique (stream, position) index.
   * @throws ConcurrencyError when the stream moved on.
   */
  append<E extends { type: string; data: unknown }>(
    streamId: string,
    events: readonly NewEvent<E>[],
    expectedVersion: ExpectedVersion,
    options: { versionIsKnown?: boolean } = {},
  ): AppendResult<E> {
    if (!this.db.inTransaction) return this.transaction(() => this.append(streamId, events, expectedVersion, options));
    let current: number;
    if (options.versionIsKnown && expectedVersion !== 'any') {
      current = expectedVersion;
    } else {
      current = this.streamVersion(streamId);
      if (expectedVersion !== 'any' && expectedVersion !== current) {
        throw new ConcurrencyError(streamId, expectedVersion, current);
      }
    }
    const recordedAt = this.now().toISOString();
    const recorded: RecordedEvent<E>[] = [];
    for (const event of events) {
      const streamPosition = current + recorded.length + 1;
      const metadata = event.metadata ?? EMPTY_METADATA;
      let globalPosition: number;
      try {
        globalPosition = Number(
          this.statements.insert.run(
            streamId,
            streamPosition,
            event.type,
            JSON.stringify(event.data),
            metadata === EMPTY_METADATA ? '{}' : JSON.stringify(metadata),
            recordedAt,
          ).lastInsertRowid,
        );
      } catch (error) {
        if (isUniqueViolation(error)) throw new ConcurrencyError(streamId, current, this.streamVersion(streamId));
        throw error;
      }
      recorded.push({ type: event.type, data: event.data, metadata, streamId, streamPosition, globalPosition, recordedAt } as RecordedEvent<E>);
    }
    if (recorded.length > 0) {
      this.onAppended?.(recorded as RecordedEvent[]);
      this.appendedInTransaction = true;
    }
    return { nextExpectedVersion: current + recorded.length, events: recorded };
  }

  /** Every event of one stream, oldest first. */
  readStream<E extends { type: string; data: unknown }>(streamId: string): RecordedEvent<E>[] {
    return this.statements.readStream.all(streamId).map(toRecorded) as RecordedEvent<E>[];
  }

  /** Up to `limit` events after global position `after`, in log order: a page for subscribers and rebuilds. */
  readAll(after: number, limit: number): RecordedEvent[] {
    return this.statements.readAll.all(after, limit).map(toRecorded);
  }

  /**
   * Up to `limit` events in (`after`, `upTo`], in log order, leaving out the
   * `excludedTypes` inside SQLite (they are neither read nor parsed): a
   * subscriber's filter over a log mostly made of events it ignores.
   */
  readAllExcept(after: number, upTo: number, limit: number, excludedTypes: readonly string[]): RecordedEvent[] {
    return this.statements.readAllExcept.all(after, upTo, JSON.stringify(excludedTypes), limit).map(toRecorded);
  }

  /** The global position of the last event, 0 for an empty log. */
  headPosition(): number {
    return this.statements.head.get()?.position ?? 0;
  }

  /** Calls `listener` after each commit that appended events in this process. Returns an unsubscribe. */
  onCommit(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private notify(): void {
    for (const listener of this.listeners) listener();
  }
}
