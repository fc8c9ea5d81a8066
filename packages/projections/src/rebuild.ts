import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { EventStore, Leases, describeOwner, processOwnerId, type SqliteDatabase } from '@handinger-webhooks/event-store';
import { createProjector } from './projector.js';
import { META_TABLE, READ_MODELS_VERSION, metaTableDdl, readModelDdl } from './schema.js';
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
const SECRET_COLUMNS = new Set(['token', 'signing_secret', 'key_hash']);

export class RebuildInProgressError extends Error {
  constructor(holder: string | null) {
    super(`another rebuild of the read models is running on this database${holder ? ` (${holder})` : ''}; try again once it has finished`);
    this.name = 'RebuildInProgressError';
  }
}

const tableExists = (db: SqliteDatabase, name: string): boolean =>
  db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;

const dropTables = (db: SqliteDatabase, tables: TableSet): void => {
  for (const name of Object.values(tables)) db.exec(`DROP TABLE IF EXISTS ${name}`);
};

/**
 * Rebuilds every read model from the log (SPEC §6) while other processes keep
 * writing: the log is streamed in batches into an aside set of tables (memory
 * stays flat), then, holding SQLite's write lock, the last events are caught
 * up and the aside tables replace the live ones in one transaction. A reader
 * sees either the old or the new read models, never a mix. With `verify`, the
 * aside tables are compared with the live ones instead and then dropped.
 */
export async function rebuildReadModels(db: SqliteDatabase, options: RebuildOptions = {}): Promise<RebuildResult> {
  const batchSize = options.batchSize ?? 10_000;
  const store = new EventStore(db);
  const leases = new Leases(db);
  const owner = processOwnerId();
  /** Takes the rebuild lease, or extends it: one rebuild per database at a time. */
  const holdLease = () => {
    if (leases.tryAcquire(LEASE, owner, LEASE_TTL_MS, Date.now())) return;
    const holder = leases.holder(LEASE);
    throw new RebuildInProgressError(holder ? describeOwner(holder.owner) : null);
  };

  // Throws RebuildInProgressError, touching nothing, when another process holds the lease.
  db.transaction(() => {
    holdLease();
    db.exec(metaTableDdl());
    dropTables(db, ASIDE_TABLES); // leftovers of a rebuild that crashed
    for (const statement of readModelDdl(ASIDE_TABLES)) db.exec(statement);
  }).immediate();

  try {
    const project = createProjector(db, ASIDE_TABLES);
    let position = 0;
    let processed = 0;
    // Events are read and parsed 1,000 at a time (memory stays flat) but projected
    // `batchSize` per transaction (fewer commits).
    const readChunk = Math.min(1_000, batchSize);
    const applyBatch = (): number => {
      let applied = 0;
      while (applied < batchSize) {
        const chunk = store.readAll(position, Math.min(readChunk, batchSize - applied));
        if (chunk.length === 0) break;
        project(chunk);
        position = chunk[chunk.length - 1]!.globalPosition;
        applied += chunk.length;
      }
      processed += applied;
      return applied;
    };

    // Bulk phase: one short write transaction per batch, so live writers interleave.
    for (;;) {
      const applied = db.transaction(() => (holdLease(), applyBatch())).immediate();
      options.onProgress?.({ processed, total: Math.max(processed, store.headPosition()) });
      if (applied < batchSize) break;
      await yieldToEventLoop();
    }

    // Final phase, under the write lock: nothing can be appended until we commit.
    const difference = db
      .transaction(() => {
        holdLease();
        while (applyBatch() > 0);
        if (options.verify) return firstDifference(db, LIVE_TABLES, ASIDE_TABLES);
        dropTables(db, LIVE_TABLES);
        for (const key of Object.keys(LIVE_TABLES) as (keyof TableSet)[]) {
          db.exec(`ALTER TABLE ${ASIDE_TABLES[key]} RENAME TO ${LIVE_TABLES[key]}`);
        }
        db.prepare(`INSERT OR REPLACE INTO ${META_TABLE} (key, value) VALUES ('version', ?)`).run(String(READ_MODELS_VERSION));
        return null;
      })
      .immediate();
    options.onProgress?.({ processed, total: processed });
    return { events: processed, swapped: !options.verify, difference };
  } finally {
    db.transaction(() => {
      dropTables(db, ASIDE_TABLES);
      leases.release(LEASE, owner);
    }).immediate();
  }
}

/** The first row that differs between two table sets, described without secrets; `null` when identical. */
function firstDifference(db: SqliteDatabase, live: TableSet, rebuilt: TableSet): string | null {
  for (const key of Object.keys(live) as (keyof TableSet)[]) {
    if (!tableExists(db, live[key])) return `live table ${live[key]} is missing`;
    const only = (a: string, b: string) => db.prepare(`SELECT * FROM ${a} EXCEPT SELECT * FROM ${b} LIMIT 1`).get() as Row | undefined;
    const extra = only(live[key], rebuilt[key]);
    if (extra) return `${live[key]}: live row ${describe(extra)} is not in the rebuilt read model`;
    const missing = only(rebuilt[key], live[key]);
    if (missing) return `${live[key]}: rebuilt row ${describe(missing)} is not in the live read model`;
  }
  return null;
}

type Row = Record<string, unknown>;
const describe = (row: Row): string =>
  JSON.stringify(Object.fromEntries(Object.entries(row).map(([k, v]) => [k, SECRET_COLUMNS.has(k) ? '[redacted]' : v])));

/**
 * Makes the live read models usable at startup: creates them on a new
 * database, and rebuilds them from the log when they are missing or were
 * built by another version of the projection code.
 */
export async function ensureReadModels(db: SqliteDatabase): Promise<'ready' | 'rebuilt'> {
  for (;;) {
    db.exec(metaTableDdl());
    const version = db.prepare(`SELECT value FROM ${META_TABLE} WHERE key = 'version'`).get() as { value: string } | undefined;
    const complete = Object.values(LIVE_TABLES).every((name) => tableExists(db, name));
    if (complete && version?.value === String(READ_MODELS_VERSION)) return 'ready';
    try {
      await rebuildReadModels(db);
      return 'rebuilt';
    } catch (error) {
      if (!(error instanceof RebuildInProgressError)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200)); // another process is on it: wait, then look again
    }
  }
}
