import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { openApplication, openStorage, type Application, type AttemptOutcomeRecord } from '@handinger-webhooks/commands';
import { createIdGenerator } from '@handinger-webhooks/contracts';
import { EVENT_STORE_MIGRATIONS, EventLog } from '@handinger-webhooks/event-store';
import { ensureReadModels, type ClaimedAttempt } from '@handinger-webhooks/projections';
import { sealWebhookSecrets } from '@handinger-webhooks/secrets';
import { generateWebhookSecrets } from '@handinger-webhooks/commands';
import type { SqliteConnection, SqliteDatabase } from '@handinger-webhooks/storage-sqlite';
import { benchPostgres, postgresUnavailable } from '../bench-postgres.js';
import { rawPgCommands } from '../ceilings/raw-pg.js';
import { openCeilingDatabase, rawRecordAttemptsSameStatements, rawRecordDeliveries, rawSetWebhooks, rawSetWebhooksSameStatements } from '../ceilings/raw-sqlite.js';
import type { BenchContext } from '../context.js';
import { makeRow, type ScenarioResult } from '../result.js';
import { interleave, pick, rotate } from '../runner.js';
import { latencySummary, perSecond } from '../stats.js';

const ids = createIdGenerator();

const OWNER = { organizationId: 'org_bench', userId: 'user_bench' };
const RECEIVER_URL = 'https://hooks.example.com/handinger/bench';
/** The product default (SPEC §5); it only matters for failed attempts, and these succeed. */
const RETRY_SCHEDULE_MS = [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000];
/** The product's pool size on PostgreSQL, given to the raw side too. */
const PG_POOL = 10;
const BENCH_SECRET_KEY = Buffer.alloc(32, 0x42).toString('base64');

type Backend = 'sqlite' | 'postgres';

/** A fresh database of one backend for one side of one repetition. */
interface BenchDb {
  location: string;
  drop(): Promise<void>;
}

async function freshDb(ctx: BenchContext, backend: Backend, name: string): Promise<BenchDb> {
  if (backend === 'sqlite') {
    const dir = ctx.tempDir(name);
    return { location: join(dir, 'bench.db'), drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const server = await benchPostgres(ctx);
  const database = `bench_${ids.ulid().toLowerCase()}`;
  const location = await server.createDatabase(database);
  return { location, drop: () => server.dropDatabase(database) };
}

/** The timed work on one prepared database: the product's command, or the same statements by hand. */
interface PreparedWorkload {
  /** The product's `i`th command. */
  command(i: number): Promise<unknown>;
  /** All `count` commands' statements by hand, `perTransaction` to a transaction; returns elapsed ms. */
  sameStatements(perTransaction: number): number;
}

/** A command workload: prepared outside the clock, then `count` commands timed by `callers` concurrent callers. */
interface Workload {
  name: string;
  /** Builds the state the commands work on, through the product (outside the clock). */
  prepare(app: Application, count: number): Promise<PreparedWorkload>;
  /** The raw ceiling for `count` commands on a fresh database with the product's schema; returns elapsed ms. */
  runCeiling(db: BenchDb, backend: Backend, count: number, callers: number): Promise<number>;
}

const rawExecution = (workerId: string) => (i: number) => {
  const ulid = ids.ulid();
  return { deliveryId: `msg_${ulid}`, executionId: `whe_${ulid}`, workerId, url: RECEIVER_URL, origin: new URL(RECEIVER_URL).origin, taskId: `task_${i}` };
};

/**
 * RecordDelivery of the first attempt of notifications opened and claimed
 * beforehand (the delivery app's hot write): the attempt's event, its
 * execution row, and the queue row it settles, decided from the claim's
 * snapshot (`Commands.recordAttempts` with one send).
 */
const recordDelivery: Workload = {
  name: 'RecordDelivery',
  async prepare(app, count) {
    const worker = await app.commands.createWorker(OWNER, { title: 'bench' });
    await app.commands.setWebhook(worker.id, RECEIVER_URL);
    for (let from = 0; from < count; from += 500) {
      await Promise.all(
        Array.from({ length: Math.min(500, count - from) }, (_, k) => app.commands.recordTaskCompletion({ taskId: `task_${ids.ulid()}_${from + k}`, workerId: worker.id, status: 'completed' })),
      );
    }
    const claims: ClaimedAttempt[] = [];
    while (claims.length < count) {
      const claim = await app.database.transaction((tx) => app.claims.claim(tx, { owner: 'bench', ttlMs: 3_600_000, globalCap: count, perOriginCap: count, limit: 5_000 }));
      if (claim.attempts.length === 0) throw new Error(`only ${claims.length} of ${count} deliveries could be claimed`);
      claims.push(...claim.attempts);
    }
    const command = (i: number) => {
      const send: AttemptOutcomeRecord = {
        claim: claims[i]!,
        executionId: `whe_${ids.ulid()}`,
        startedAt: new Date().toISOString(),
        durationMs: 12,
        url: RECEIVER_URL,
        responseStatus: 200,
        transportError: null,
        taskTitle: null,
        retryScheduleMs: RETRY_SCHEDULE_MS,
      };
      return app.commands.recordAttempts([send]);
    };
    return { command, sameStatements: (perTransaction) => rawRecordAttemptsSameStatements(sqliteWriter(app), claims, perTransaction, RECEIVER_URL) };
  },
  async runCeiling(db, backend, count, callers) {
    const workerId = `t_org_bench_w_${ids.ulid()}`;
    if (backend === 'postgres') return rawPgCommands(db.location, { count, callers, poolSize: PG_POOL, kind: 'record', row: rawExecution(workerId) });
    const database = await openCeilingDatabase(db.location);
    try {
      return rawRecordDeliveries(database.writer, count, rawExecution(workerId));
    } finally {
      await database.close();
    }
  },
};

/** SetWebhook on workers created beforehand: first configuration (fresh sealed secrets, a WebhookConfigured event). */
const setWebhook: Workload = {
  name: 'SetWebhook',
  async prepare(app, count) {
    const workerIds: string[] = [];
    for (let from = 0; from < count; from += 500) {
      const chunk = Array.from({ length: Math.min(500, count - from) }, () => app.commands.createWorker(OWNER, { title: 'bench' }));
      workerIds.push(...(await Promise.all(chunk)).map((w) => w.id));
    }
    const webhook = (i: number) => ({ url: `https://receiver-${i % 10}.example.com/hooks/${i}`, origin: `https://receiver-${i % 10}.example.com` });
    const seal = (workerId: string) => sealWebhookSecrets(app.secretBox, workerId, generateWebhookSecrets());
    return {
      command: (i) => app.commands.setWebhook(workerIds[i]!, webhook(i).url),
      sameStatements: (perTransaction) => rawSetWebhooksSameStatements(sqliteWriter(app), workerIds, perTransaction, seal, webhook),
    };
  },
  async runCeiling(db, backend, count, callers) {
    const row = (i: number) => ({ ...rawExecution(`t_org_bench_w_${ids.ulid()}`)(i), url: `https://receiver-${i % 10}.example.com/hooks/${i}`, origin: `https://receiver-${i % 10}.example.com` });
    if (backend === 'postgres') return rawPgCommands(db.location, { count, callers, poolSize: PG_POOL, kind: 'webhook', row });
    const database = await openCeilingDatabase(db.location);
    try {
      return rawSetWebhooks(database.writer, count, row);
    } finally {
      await database.close();
    }
  },
};

/** Times `count` commands issued by `callers` concurrent callers (each awaits its previous command). */
async function runProduct(ctx: BenchContext, backend: Backend, workload: Workload, count: number, callers: number): Promise<{ ms: number; latencies: Float64Array }> {
  const db = await freshDb(ctx, backend, `product-${workload.name}`);
  const app = await openApplication({ db: db.location, secretKey: BENCH_SECRET_KEY, backgroundCheckpoints: true });
  try {
    const { command } = await workload.prepare(app, count);
    const latencies = new Float64Array(count);
    let next = 0;
    const caller = async () => {
      for (let i = next++; i < count; i = next++) {
        const sent = performance.now();
        await command(i);
        latencies[i] = performance.now() - sent;
      }
    };
    const started = performance.now();
    await Promise.all(Array.from({ length: callers }, caller));
    return { ms: performance.now() - started, latencies };
  } finally {
    await app.close();
    await db.drop();
  }
}

/** The writer connection of a SQLite application, for a ceiling that runs statements by hand on the product's own database. */
function sqliteWriter(app: Application): SqliteConnection {
  if (app.database.dialect !== 'sqlite') throw new Error('the same-statements ceiling runs on SQLite');
  return (app.database as SqliteDatabase).writer;
}

/**
 * The same-statements ceiling: the product prepares the state (outside the
 * clock), then every command's statements run by hand on its writer,
 * one command per transaction, or `perTransaction` per transaction (what
 * group commit makes of that many callers when none fails).
 */
async function runSameStatements(ctx: BenchContext, workload: Workload, count: number, perTransaction: number): Promise<number> {
  const db = await freshDb(ctx, 'sqlite', `same-${workload.name}`);
  const app = await openApplication({ db: db.location, secretKey: BENCH_SECRET_KEY, backgroundCheckpoints: true });
  try {
    return (await workload.prepare(app, count)).sameStatements(perTransaction);
  } finally {
    await app.close();
    await db.drop();
  }
}

async function runCeiling(ctx: BenchContext, backend: Backend, workload: Workload, count: number, callers: number): Promise<number> {
  const db = await freshDb(ctx, backend, `ceiling-${workload.name}`);
  try {
    if (backend === 'postgres') {
      // The product's schema, made by the product's own migrations and DDL.
      const database = await openStorage(db.location);
      await database.migrate('event-store', EVENT_STORE_MIGRATIONS);
      await ensureReadModels(database, new EventLog(database));
      await database.close();
    }
    return await workload.runCeiling(db, backend, count, callers);
  } finally {
    await db.drop();
  }
}

/** The sides of a SQLite command-path case: the one-event ceiling, the same statements by hand, the product. */
type SameStatementSide = 'ceiling' | 'same' | 'product';

/**
 * The two rows the same-statements ceiling adds to a case: the product
 * against it (what the layers cost: decider, log, projector, promises), and
 * it against the first ceiling (what the statements the command must run
 * cost beyond one event and one row: no implementation of the command can
 * do better than that ratio).
 */
function sameStatementRows(scenario: string, label: string, runs: Record<SameStatementSide, Record<string, number>[]>) {
  const rate = (side: SameStatementSide) => pick(runs[side], 'perSecond');
  return [
    makeRow({ scenario, case: `${label}, vs raw running the product's statements`, unit: 'commands/s', higherIsBetter: true, product: rate('product'), ceiling: rate('same') }),
    makeRow({
      scenario,
      case: `${label}: raw running the product's statements vs raw 1 event + 1 row per transaction`,
      unit: 'commands/s',
      higherIsBetter: true,
      product: rate('same'),
      ceiling: rate('ceiling'),
    }),
  ];
}

/**
 * The command path through decider + event log + inline projections, on
 * SQLite (one caller awaiting each command; 64 callers, group commit) and on
 * PostgreSQL (one caller; 16 callers over the product's 10-connection pool),
 * each against a raw driver doing one event insert + one read-model upsert
 * per transaction on the same schema (raw better-sqlite3; raw `pg` with the
 * same pool size and callers). Fresh databases per repetition and side.
 */
export async function commandPathScenario(ctx: BenchContext): Promise<ScenarioResult[]> {
  const { reps, sequentialCommands, concurrentCommands, concurrentCallers } = ctx.sizes;
  const sequential: ScenarioResult = { id: 'command-path', title: 'command path', rows: [], details: {}, notes: [], durationMs: 0 };
  const concurrent: ScenarioResult = { id: 'command-path-concurrent', title: 'command path under concurrency', rows: [], details: {}, notes: [], durationMs: 0 };
  const postgres: ScenarioResult = { id: 'command-path-postgres', title: 'command path on PostgreSQL', rows: [], details: {}, notes: [], durationMs: 0 };
  const pgSkip = await postgresUnavailable(ctx);
  if (pgSkip) postgres.skipped = pgSkip;

  for (const workload of [recordDelivery, setWebhook]) {
    // Warm the JIT of both sides once, unrecorded.
    await runProduct(ctx, 'sqlite', workload, 300, 1);
    await runProduct(ctx, 'sqlite', workload, 300, concurrentCallers);
    await runCeiling(ctx, 'sqlite', workload, 300, 1);

    let started = performance.now();
    const seq = await rotate<Record<string, number>, SameStatementSide>({
      reps,
      label: `${workload.name} sequential`,
      log: ctx.log,
      sides: {
        ceiling: async () => ({ perSecond: perSecond(sequentialCommands, await runCeiling(ctx, 'sqlite', workload, sequentialCommands, 1)) }),
        same: async () => ({ perSecond: perSecond(sequentialCommands, await runSameStatements(ctx, workload, sequentialCommands, 1)) }),
        product: async () => {
          const { ms, latencies } = await runProduct(ctx, 'sqlite', workload, sequentialCommands, 1);
          return { perSecond: perSecond(sequentialCommands, ms), p50ms: latencySummary(latencies).p50 };
        },
      },
    });
    sequential.durationMs += performance.now() - started;
    sequential.rows.push(
      makeRow({
        scenario: sequential.title,
        case: `${workload.name}, 1 caller, 1 command per transaction`,
        unit: 'commands/s',
        higherIsBetter: true,
        product: pick(seq.product, 'perSecond'),
        ceiling: pick(seq.ceiling, 'perSecond'),
        target: { kind: 'ratio-at-least', value: 0.8 },
      }),
      ...sameStatementRows(sequential.title, `${workload.name}, 1 caller`, seq),
    );
    sequential.details[workload.name] = { commandsPerRep: sequentialCommands, productLatencyP50ms: pick(seq.product, 'p50ms') };

    started = performance.now();
    const conc = await rotate<Record<string, number>, SameStatementSide>({
      reps,
      label: `${workload.name} ${concurrentCallers} callers`,
      log: ctx.log,
      sides: {
        ceiling: async () => ({ perSecond: perSecond(concurrentCommands, await runCeiling(ctx, 'sqlite', workload, concurrentCommands, 1)) }),
        same: async () => ({ perSecond: perSecond(concurrentCommands, await runSameStatements(ctx, workload, concurrentCommands, concurrentCallers)) }),
        product: async () => {
          const { ms, latencies } = await runProduct(ctx, 'sqlite', workload, concurrentCommands, concurrentCallers);
          const l = latencySummary(latencies);
          return { perSecond: perSecond(concurrentCommands, ms), p50ms: l.p50, p99ms: l.p99 };
        },
      },
    });
    concurrent.durationMs += performance.now() - started;
    concurrent.rows.push(
      makeRow({
        scenario: concurrent.title,
        case: `${workload.name}, ${concurrentCallers} callers (group commit) vs raw 1 event per transaction`,
        unit: 'commands/s',
        higherIsBetter: true,
        product: pick(conc.product, 'perSecond'),
        ceiling: pick(conc.ceiling, 'perSecond'),
        target: { kind: 'ratio-at-least', value: 2 },
      }),
      ...sameStatementRows(concurrent.title, `${workload.name}, ${concurrentCallers} callers (the same statements: ${concurrentCallers} commands per transaction)`, conc),
    );
    concurrent.details[workload.name] = {
      commandsPerRep: concurrentCommands,
      callers: concurrentCallers,
      productAckLatencyP50ms: pick(conc.product, 'p50ms'),
      productAckLatencyP99ms: pick(conc.product, 'p99ms'),
    };

    if (pgSkip) continue;
    started = performance.now();
    const pgCount = Math.max(200, Math.round(sequentialCommands / 5));
    await runProduct(ctx, 'postgres', workload, 200, 1);
    await runCeiling(ctx, 'postgres', workload, 200, 1);
    for (const callers of [1, 16]) {
      const count = callers === 1 ? pgCount : pgCount * 2;
      const runs = await interleave({
        reps,
        label: `${workload.name} postgres ${callers} callers`,
        log: ctx.log,
        ceiling: async () => ({ perSecond: perSecond(count, await runCeiling(ctx, 'postgres', workload, count, callers)) }),
        product: async () => ({ perSecond: perSecond(count, (await runProduct(ctx, 'postgres', workload, count, callers)).ms) }),
      });
      postgres.rows.push(
        makeRow({
          scenario: postgres.title,
          case: `${workload.name}, ${callers} caller${callers > 1 ? `s, pool of ${PG_POOL}` : ''}, vs raw pg (same statements, same pool and callers)`,
          unit: 'commands/s',
          higherIsBetter: true,
          product: pick(runs.product, 'perSecond'),
          ceiling: pick(runs.ceiling, 'perSecond'),
        }),
      );
    }
    postgres.durationMs += performance.now() - started;
  }
  sequential.notes.push(
    'Product: openApplication() commands as serve and deliver open it (WAL checkpoints on their own thread), each awaited before the next (group commit then holds one command per transaction). Ceiling: raw prepared BEGIN IMMEDIATE / INSERT event / INSERT OR REPLACE read-model row / COMMIT on the same schema and pragmas (the product driver\'s writer connection, SQLite\'s in-line checkpoints). Same statements: every statement of the product\'s command by hand, on a database opened as the product\'s. Fresh database files per repetition and side.',
  );
  concurrent.notes.push('Each caller awaits its own command before issuing the next; every caller is acknowledged only after the shared COMMIT.');
  postgres.notes.push(
    'PostgreSQL 15 on a Unix socket with durability on (fsync, synchronous_commit). Product: openApplication() on a fresh database per repetition; ceiling: raw pg, named statements, BEGIN / INSERT event / upsert read-model row / COMMIT, same pool size and callers. Reported, no target (issue: next to a raw pg ceiling).',
  );
  return [sequential, concurrent, postgres];
}
