import type { Database } from './database.js';
import { isoClock } from './iso-clock.js';
import { ConcurrencyError, EMPTY_METADATA, toRecorded, type AppendResult, type EventRow, type ExpectedVersion, type NewEvent, type RecordedEvent } from './events.js';
import { LOG_START, decodeCursor, encodeCursor, type LogCursor } from './log-cursor.js';
import { inList, listParam, notInList, type Sql, type TxSql } from './sql.js';

const COLUMNS = 'global_position, stream_id, stream_position, type, data, metadata, recorded_at';
/** An append; its new row's `global_position` comes back through `Sql.insert` (PostgreSQL: add `RETURNING global_position`). */
const INSERT_EVENT = `INSERT INTO events (stream_id, stream_position, type, data, metadata, recorded_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (stream_id, stream_position) DO NOTHING`;

export interface EventLogOptions {
  /**
   * Inline projections: called inside the append's transaction with the
   * events just written, so a read after a successful write sees it. A throw
   * rolls the whole append back.
   */
  project?: (tx: TxSql, events: readonly RecordedEvent[]) => Promise<void>;
  now?: () => Date;
}

/** A page of the log for a follower, and where to go on from. */
export interface LogPage {
  events: RecordedEvent[];
  cursor: LogCursor;
  /** Fewer than asked for: the follower has seen everything it may see now. */
  caughtUp: boolean;
}

/**
 * The append-only event log (SPEC §6) on either backend: `events(global_position,
 * stream_id, stream_position, type, data, metadata, recorded_at)` with a unique
 * (stream_id, stream_position), plus on PostgreSQL the writing transaction's
 * id (`tx_id`), which followers order by. This package owns the table; every
 * statement on it is here.
 */
export class EventLog {
  private readonly project: EventLogOptions['project'];
  /** When an append is recorded, as the events' `recorded_at` holds it. */
  private readonly recordedAt: () => string;

  constructor(
    readonly db: Database,
    options: EventLogOptions = {},
  ) {
    this.project = options.project;
    this.recordedAt = isoClock(options.now ?? (() => new Date()));
  }

  /** The stream's version: its number of events, 0 when it has none. */
  async streamVersion(sql: Sql, streamId: string): Promise<number> {
    const row = await sql.get<{ v: number }>('SELECT stream_position AS v FROM events WHERE stream_id = ? ORDER BY stream_position DESC LIMIT 1', [streamId]);
    return row?.v ?? 0;
  }

  /**
   * Appends events to one stream if it is at `expectedVersion`, then runs the
   * inline projections, inside the caller's transaction. With
   * `versionIsKnown` the caller vouches that the stream had `expectedVersion`
   * events when it looked (it read them, or its claim says so): the version
   * is not read again, and a writer that appended meanwhile is caught by the
   * unique (stream, position) index, without aborting the transaction.
   * @throws ConcurrencyError when the stream moved on
   */
  async append<E extends { type: string; data: unknown }>(
    tx: TxSql,
    streamId: string,
    events: readonly NewEvent<E>[],
    expectedVersion: ExpectedVersion,
    options: { versionIsKnown?: boolean } = {},
  ): Promise<AppendResult<E>> {
    let current: number;
    if (options.versionIsKnown && expectedVersion !== 'any') {
      current = expectedVersion;
    } else {
      current = await this.streamVersion(tx, streamId);
      if (expectedVersion !== 'any' && expectedVersion !== current) throw new ConcurrencyError(streamId, expectedVersion, current);
    }
    const recordedAt = this.recordedAt();
    const recorded: RecordedEvent<E>[] = [];
    for (const event of events) {
      const streamPosition = current + recorded.length + 1;
      const metadata = event.metadata ?? EMPTY_METADATA;
      // ON CONFLICT DO NOTHING: a lost race shows as no row, and (PostgreSQL) leaves the transaction usable.
      const globalPosition = await tx.insert(tx.dialect === 'sqlite' ? INSERT_EVENT : `${INSERT_EVENT} RETURNING global_position`, [
        streamId,
        streamPosition,
        event.type,
        JSON.stringify(event.data),
        metadata === EMPTY_METADATA ? '{}' : JSON.stringify(metadata),
        recordedAt,
      ]);
      if (globalPosition === null) throw new ConcurrencyError(streamId, current, await this.streamVersion(tx, streamId));
      recorded.push({ type: event.type, data: event.data, metadata, streamId, streamPosition, globalPosition, recordedAt } as RecordedEvent<E>);
    }
    if (recorded.length > 0 && this.project) await this.project(tx, recorded as RecordedEvent[]);
    return { nextExpectedVersion: current + recorded.length, events: recorded };
  }

  /** Every event of one stream, oldest first. */
  async readStream<E extends { type: string; data: unknown }>(sql: Sql, streamId: string): Promise<RecordedEvent<E>[]> {
    const rows = await sql.all<EventRow>(`SELECT ${COLUMNS} FROM events WHERE stream_id = ? ORDER BY stream_position`, [streamId]);
    return rows.map(toRecorded) as RecordedEvent<E>[];
  }

  /** Every event of one stream as committed now (a read outside any transaction). */
  stream<E extends { type: string; data: unknown }>(streamId: string): Promise<RecordedEvent<E>[]> {
    return this.readStream<E>(this.db.sql, streamId);
  }

  /** The events at these global positions (any order), e.g. the completions whose notifications are due. */
  async eventsAt(sql: Sql, positions: readonly number[]): Promise<RecordedEvent[]> {
    if (positions.length === 0) return [];
    if (positions.length === 1) {
      const row = await sql.get<EventRow>(`SELECT ${COLUMNS} FROM events WHERE global_position = ?`, [positions[0]!]);
      return row ? [toRecorded(row)] : [];
    }
    const rows = await sql.all<EventRow>(`SELECT ${COLUMNS} FROM events WHERE ${inList(sql.dialect, 'global_position', 'bigint')}`, [
      listParam(sql.dialect, positions),
    ]);
    return rows.map(toRecorded);
  }

  /**
   * Up to `limit` events after `cursor`, for a follower (a rebuild, a
   * recovery, an export), leaving out `exceptTypes` in the database. Never
   * skips an event: on PostgreSQL only events of transactions older than
   * every transaction still open are read (`tx_id < pg_snapshot_xmin`), in
   * (tx_id, position) order, so an event that commits after one with a
   * higher position is still ahead of the cursor when it becomes visible.
   */
  async readAfter(cursor: LogCursor, limit: number, options: { exceptTypes?: readonly string[]; sql?: Sql } = {}): Promise<LogPage> {
    const sql = options.sql ?? this.db.sql;
    const from = decodeCursor(cursor);
    const except = options.exceptTypes && options.exceptTypes.length > 0 ? options.exceptTypes : null;
    const exceptClause = except ? ` AND ${notInList(sql.dialect, 'type')}` : '';
    const exceptParams = except ? [listParam(sql.dialect, except)] : [];
    let rows: (EventRow & { tx_text?: string })[];
    if (sql.dialect === 'sqlite') {
      rows = await sql.all(`SELECT ${COLUMNS} FROM events WHERE global_position > ?${exceptClause} ORDER BY global_position LIMIT ?`, [
        from.position,
        ...exceptParams,
        limit,
      ]);
    } else {
      rows = await sql.all(
        `SELECT ${COLUMNS}, CAST(tx_id AS text) AS tx_text FROM events
         WHERE (tx_id, global_position) > (CAST(? AS xid8), ?) AND tx_id < pg_snapshot_xmin(pg_current_snapshot())${exceptClause}
         ORDER BY tx_id, global_position LIMIT ?`,
        [from.tx, from.position, ...exceptParams, limit],
      );
    }
    const last = rows[rows.length - 1];
    const next = last === undefined ? cursor : encodeCursor(sql.dialect, { tx: last.tx_text ?? '0', position: last.global_position });
    return { events: rows.map(toRecorded), cursor: next === '' ? LOG_START : next, caughtUp: rows.length < limit };
  }

  /**
   * Everything after `cursor` with no regard for open transactions: only for
   * a reader that holds the log's write lock (`lockForCatchUp`), when no
   * transaction that could precede it is still open.
   */
  async readAfterLocked(tx: TxSql, cursor: LogCursor, limit: number): Promise<LogPage> {
    const from = decodeCursor(cursor);
    const rows =
      tx.dialect === 'sqlite'
        ? await tx.all<EventRow & { tx_text?: string }>(`SELECT ${COLUMNS} FROM events WHERE global_position > ? ORDER BY global_position LIMIT ?`, [from.position, limit])
        : await tx.all<EventRow & { tx_text?: string }>(
            `SELECT ${COLUMNS}, CAST(tx_id AS text) AS tx_text FROM events WHERE (tx_id, global_position) > (CAST(? AS xid8), ?) ORDER BY tx_id, global_position LIMIT ?`,
            [from.tx, from.position, limit],
          );
    const last = rows[rows.length - 1];
    const next = last === undefined ? cursor : encodeCursor(tx.dialect, { tx: last.tx_text ?? '0', position: last.global_position });
    return { events: rows.map(toRecorded), cursor: next, caughtUp: rows.length < limit };
  }

  /**
   * Takes the log's write lock inside `tx`: appends by others wait until it
   * commits, and every transaction that appended before has finished (SQLite:
   * its write transaction already is exclusive; PostgreSQL: `LOCK TABLE`).
   */
  async lockForCatchUp(tx: TxSql): Promise<void> {
    if (tx.dialect === 'postgres') await tx.run('LOCK TABLE events IN EXCLUSIVE MODE');
  }

  /** How many events the log holds (for progress bars: an estimate is fine). */
  async count(sql: Sql = this.db.sql): Promise<number> {
    const row = await sql.get<{ n: number }>('SELECT COUNT(*) AS n FROM events');
    return Number(row?.n ?? 0);
  }

  /** The highest global position, 0 for an empty log. */
  async headPosition(sql: Sql = this.db.sql): Promise<number> {
    const row = await sql.get<{ p: number | null }>('SELECT MAX(global_position) AS p FROM events');
    return Number(row?.p ?? 0);
  }

  /** Events in global position order after `position` (a consistent read inside a snapshot, e.g. for an export). */
  async readByPosition(sql: Sql, position: number, limit: number): Promise<RecordedEvent[]> {
    const rows = await sql.all<EventRow>(`SELECT ${COLUMNS} FROM events WHERE global_position > ? ORDER BY global_position LIMIT ?`, [position, limit]);
    return rows.map(toRecorded);
  }

  /**
   * Writes events with the positions they had in another log (import-log
   * into an empty database): global positions are kept, since read models
   * refer to them (a webhook's generation). Inline projections are not run;
   * the importer rebuilds the read models afterwards.
   */
  async insertImported(tx: TxSql, events: readonly RecordedEvent[]): Promise<void> {
    for (const event of events) {
      await tx.run('INSERT INTO events (global_position, stream_id, stream_position, type, data, metadata, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)', [
        event.globalPosition,
        event.streamId,
        event.streamPosition,
        event.type,
        JSON.stringify(event.data),
        JSON.stringify(event.metadata),
        event.recordedAt,
      ]);
    }
  }

  /** After an import with explicit positions: new appends continue above the highest one (PostgreSQL's identity sequence). */
  async afterImport(tx: TxSql): Promise<void> {
    if (tx.dialect === 'postgres') {
      await tx.run("SELECT setval(pg_get_serial_sequence('events', 'global_position'), GREATEST((SELECT MAX(global_position) FROM events), 1), (SELECT COUNT(*) > 0 FROM events))");
    }
  }
}
