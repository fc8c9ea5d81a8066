import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { LOG_START, Leases, describeOwner, processOwnerId, type Database, type EventLog, type LogCursor, type LogPage, type TxSql } from '@handinger-webhooks/event-store';
import { columnsOf, tableExists } from './catalog.js';
import { createProjector } from './projector.js';
import { META_TABLE, READ_MODELS_VERSION, claimsTableDdl, metaTableDdl, readModelDdl } from './schema.js';
import { ASIDE_TABLES, LIVE_TABLES, type TableSet } from './tables.js';

export interface RebuildProgress {
  /** Events projected so far. */
  processed: number;
  /** Events in the log when last looked (it may grow while the rebuild runs). */
  total: number;
}

export interface RebuildOptions {
  /** Build aside and compare with the live read models; swap nothing. */
  verify?: boolean;
  /** Events projected per transaction. */
  batchSize?: number;
  onProgress?: (progress: RebuildProgress) => void;
}

export interface RebuildResult {
  events: number;
  swapped: boolean;
  /** With `verify`: `null` when identical, else the first difference found. */
  difference: string | null;
}

const LEASE = 'read-models:rebuild';
/**
 * The rebuild renews its lease with every batch (a fraction of a second
 * apart), so a short lease is enough, and a rebuild killed on another
 * machine blocks the next one for at most this long (on the same machine
 * a dead holder is noticed at once: see `Leases`).
 */
const LEASE_TTL_MS = 15_000;
/** Columns holding secrets: never printed in a difference report. */
const SECRET_COLUMNS = new Set(['token', 'signing_secret', 'key_hash', 'previous_signing_secret', 'credential_hash']);
/** Events are read this many at a time (memory stays flat), and projected `batchSize` per transaction. */
const READ_CHUNK = 1_000;

export class RebuildInProgressError extends Error {
  constructor(holder: string | null) {
    super(`another rebuild of the read models is running on this database${holder ? ` (${holder})` : ''}; try again once it has finished`);
    this.name = 'RebuildInProgressError';
  }
}

const dropTables = async (tx: TxSql, tables: TableSet): Promise<void> => {
  for (const name of Object.values(tables)) await tx.run(`DROP TABLE IF EXISTS ${name}`);
};

/**
 * Projects the log from `from` into the aside tables, page by page, until it
 * has applied `limit` events or caught up. Inside a transaction whose work
 * may run more than once (Database.transaction), so it starts from the
 * cursor it is given, with a projector of its own (one that remembers what
 * it wrote: the aside tables are this rebuild's alone, under its lease), and
 * hands where it got to over in its result.
 */
async function projectFrom(
  tx: TxSql,
  from: LogCursor,
  read: (at: LogCursor, limit: number) => Promise<LogPage>,
  limit: number,
): Promise<{ at: LogCursor; applied: number; caughtUp: boolean }> {
  const project = createProjector(ASIDE_TABLES, { exclusive: true });
  let at = from;
  let applied = 0;
  while (applied < limit) {
    const page = await read(at, Math.min(READ_CHUNK, limit - applied));
    await project(tx, page.events);
    at = page.cursor;
    applied += page.events.length;
    if (page.caughtUp) return { at, applied, caughtUp: true };
  }
  return { at, applied, caughtUp: false };
}

/**
 * Rebuilds every read model from the log (SPEC §6) while other processes keep
 * writing: the log is followed in batches into an aside set of tables (memory
 * stays flat), then, holding the log's write lock, the last events are caught
 * up and the aside tables replace the live ones in one transaction. A reader
 * sees either the old or the new read models, never a mix. The claims of
 * deliveries in flight are not read models and stay as they are. With
 * `verify`, the aside tables are compared with the live ones instead.
 */
export async function rebuildReadModels(db: Database, log: EventLog, options: RebuildOptions = {}): Promise<RebuildResult> {
  const batchSize = options.batchSize ?? 10_000;
  const leases = new Leases();
  const owner = processOwnerId();
  /** Takes the rebuild lease, or extends it: one rebuild per database at a time. */
  const holdLease = async (tx: TxSql) => {
    if (await leases.tryAcquire(tx, LEASE, owner, LEASE_TTL_MS)) return;
    const holder = await leases.holder(tx, LEASE);
    throw new RebuildInProgressError(holder ? describeOwner(holder.owner) : null);
  };

  // Throws RebuildInProgressError, touching nothing, when another process holds the lease.
  await db.transaction(async (tx) => {
    await holdLease(tx);
    await tx.run(metaTableDdl(db.dialect));
    await tx.run(claimsTableDdl(db.dialect));
    await dropTables(tx, ASIDE_TABLES); // leftovers of a rebuild that was killed
    for (const statement of readModelDdl(db.dialect, ASIDE_TABLES)) await tx.run(statement);
  });

  try {
    let cursor: LogCursor = LOG_START;
    let processed = 0;
    const total = async () => Math.max(processed, await log.count());

    // Bulk phase: one short write transaction per batch, so live writers interleave.
    for (let caughtUp = false; !caughtUp; ) {
      const batch = await db.transaction(async (tx) => {
        await holdLease(tx);
        return projectFrom(tx, cursor, (at, limit) => log.readAfter(at, limit), batchSize);
      });
      ({ caughtUp } = batch);
      cursor = batch.at;
      processed += batch.applied;
      options.onProgress?.({ processed, total: await total() });
      await yieldToEventLoop();
    }

    // Final phase, holding the log's write lock: nothing can be appended until this commits.
    const final = await db.transaction(async (tx) => {
      await holdLease(tx);
      await log.lockForCatchUp(tx);
      const { applied } = await projectFrom(tx, cursor, (at, limit) => log.readAfterLocked(tx, at, limit), Number.POSITIVE_INFINITY);
      if (options.verify) return { applied, difference: await firstDifference(tx, LIVE_TABLES, ASIDE_TABLES) };
      await dropTables(tx, LIVE_TABLES);
      for (const key of Object.keys(LIVE_TABLES) as (keyof TableSet)[]) await tx.run(`ALTER TABLE ${ASIDE_TABLES[key]} RENAME TO ${LIVE_TABLES[key]}`);
      await tx.run(`INSERT INTO ${META_TABLE} (key, value) VALUES ('version', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, [String(READ_MODELS_VERSION)]);
      return { applied, difference: null };
    });
    processed += final.applied;
    const { difference } = final;
    options.onProgress?.({ processed, total: processed });
    return { events: processed, swapped: !options.verify, difference };
  } finally {
    await db.transaction(async (tx) => {
      await dropTables(tx, ASIDE_TABLES);
      await leases.release(tx, LEASE, owner);
    });
  }
}

/** The first row that differs between two table sets, described without secrets; `null` when identical. */
async function firstDifference(tx: TxSql, live: TableSet, rebuilt: TableSet): Promise<string | null> {
  for (const key of Object.keys(live) as (keyof TableSet)[]) {
    if (!(await tableExists(tx, live[key]))) return `live table ${live[key]} is missing`;
    const columns = (await columnsOf(tx, rebuilt[key])).join(', ');
    const only = (a: string, b: string) => tx.get<Row>(`SELECT ${columns} FROM ${a} EXCEPT SELECT ${columns} FROM ${b} LIMIT 1`);
    const extra = await only(live[key], rebuilt[key]);
    if (extra) return `${live[key]}: live row ${describe(extra)} is not in the rebuilt read model`;
    const missing = await only(rebuilt[key], live[key]);
    if (missing) return `${live[key]}: rebuilt row ${describe(missing)} is not in the live read model`;
  }
  return null;
}

type Row = Record<string, unknown>;
const describe = (row: Row): string => JSON.stringify(Object.fromEntries(Object.entries(row).map(([k, v]) => [k, SECRET_COLUMNS.has(k) ? '[redacted]' : v])));

/**
 * Makes the live read models usable at startup: creates them on a new
 * database, and rebuilds them from the log when they are missing or were
 * built by another version of the projection code.
 */
export async function ensureReadModels(db: Database, log: EventLog): Promise<'ready' | 'rebuilt'> {
  for (;;) {
    await db.transaction(async (tx) => {
      await tx.run(metaTableDdl(db.dialect));
      await tx.run(claimsTableDdl(db.dialect));
    });
    const version = await db.sql.get<{ value: string }>(`SELECT value FROM ${META_TABLE} WHERE key = 'version'`);
    let complete = true;
    for (const name of Object.values(LIVE_TABLES)) complete &&= await tableExists(db.sql, name);
    if (complete && version?.value === String(READ_MODELS_VERSION)) return 'ready';
    try {
      await rebuildReadModels(db, log);
      return 'rebuilt';
    } catch (error) {
      if (!(error instanceof RebuildInProgressError)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200)); // another process is on it: wait, then look again
    }
  }
}
