import { createIdGenerator, streams, workerId as makeWorkerId, type DeliveryAttempted, type WorkerCreated } from '@handinger-webhooks/contracts';
import { EVENT_STORE_MIGRATIONS, EventLog } from '@handinger-webhooks/event-store';
import { openSqliteDatabase } from '@handinger-webhooks/storage-sqlite';
import { rebuildReadModels } from '@handinger-webhooks/projections';
import { join } from 'node:path';
import type { BenchContext } from './context.js';

/** The organization and user of the bootstrap key (SPEC §2): the paged worker belongs to them so the API can read it. */
export const BOOTSTRAP_ORG = 'org_local';
export const BOOTSTRAP_USER = 'user_local';

/**
 * A database with `executions` DeliveryAttempted events in its log, of which
 * `targetExecutions` belong to one worker, and read models built from that
 * log. Shared by the execution-page, API and rebuild scenarios.
 */
export interface Dataset {
  dbPath: string;
  targetWorkerId: string;
  workerIds: string[];
  executions: number;
  targetExecutions: number;
  /** Events in the log (the executions plus one WorkerCreated per worker). */
  events: number;
  /** How long writing the log and building the read models took (not a benchmark figure). */
  seedLogMs: number;
  seedReadModelsMs: number;
}

const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const TITLES = ['Nightly report', 'Summarize inbox', null, 'Scrape pricing page', null];

/**
 * Writes the log through the real `EventLog.append` (so the rows are exactly
 * what the product writes), in transactions of `chunk` appends and without
 * inline projections, then builds the read models with the real projector via
 * `rebuildReadModels` (the same code the inline path runs, SPEC §6). The
 * result is row for row what appending every event one by one with inline
 * projections would produce, minus the per-append transaction cost.
 *
 * Executions are in start-time order (every 5th belongs to the target worker),
 * one delivery stream per execution, ~1 in 7 an HTTP 500, so rows have the
 * shapes real traffic gives them.
 */
export async function seedDataset(
  dir: string,
  options: { executions: number; targetExecutions: number; otherWorkers: number; log?: (m: string) => void; chunk?: number },
): Promise<Dataset> {
  const dbPath = join(dir, 'dataset.db');
  const db = openSqliteDatabase(dbPath);
  try {
    await db.migrate('event-store', EVENT_STORE_MIGRATIONS);
    const log = new EventLog(db, { now: () => new Date(T0) });
    let clockMs = T0;
    const ids = createIdGenerator(() => clockMs);
    const targetWorkerId = makeWorkerId(BOOTSTRAP_ORG, ids.ulid());
    const others = Array.from({ length: options.otherWorkers }, () => makeWorkerId('org_bench', ids.ulid()));
    const workerIds = [targetWorkerId, ...others];
    const every = Math.max(1, Math.round(options.executions / options.targetExecutions));
    const started = performance.now();

    await db.transaction(async (tx) => {
      for (const workerId of workerIds) {
        const organizationId = workerId === targetWorkerId ? BOOTSTRAP_ORG : 'org_bench';
        const event: WorkerCreated = {
          type: 'WorkerCreated',
          data: {
            workerId,
            organizationId,
            userId: workerId === targetWorkerId ? BOOTSTRAP_USER : 'user_bench',
            title: 'Bench worker',
            instructions: 'Produce a report',
            summary: '',
            visibility: 'private',
            createdAt: new Date(T0).toISOString(),
          },
        };
        await log.append(tx, streams.worker(workerId), [event], 0, { versionIsKnown: true });
      }
    });

    const chunk = options.chunk ?? 20_000;
    let target = 0;
    let other = 0;
    for (let from = 0; from < options.executions; from += chunk) {
      const to = Math.min(options.executions, from + chunk);
      await db.transaction(async (tx) => {
        for (let i = from; i < to; i++) {
          const isTarget = i % every === 0 && target < options.targetExecutions;
          const workerId = isTarget ? targetWorkerId : others[other++ % others.length]!;
          if (isTarget) target++;
          const startedAtMs = T0 + 60_000 + i * 10;
          clockMs = startedAtMs;
          const ulid = ids.ulid();
          const startedAt = new Date(startedAtMs).toISOString();
          const failed = i % 7 === 3;
          const event: DeliveryAttempted = {
            type: 'DeliveryAttempted',
            data: {
              deliveryId: `msg_${ulid}`,
              workerId,
              attempt: 1,
              executionId: `whe_${ulid}`,
              startedAt,
              durationMs: 20 + (i % 180),
              url: `https://hooks.example.com/handinger/${workerId.slice(-8).toLowerCase()}`,
              requestStatus: failed ? 'error' : 'success',
              responseStatus: failed ? 500 : 200,
              errorMessage: failed ? 'HTTP 500' : null,
              taskId: `task_${ulid}`,
              taskTitle: TITLES[i % TITLES.length]!,
              dueAt: startedAt,
              nextAttemptAt: null,
              result: failed ? 'exhausted' : 'delivered',
            },
          };
          await log.append(tx, streams.delivery(`msg_${ulid}`), [event], 0, { versionIsKnown: true });
        }
      });
      if (to % 200_000 === 0) options.log?.(`seeded ${to}/${options.executions} executions`);
    }
    if (target !== options.targetExecutions) {
      throw new Error(`seeding gave the target worker ${target} executions, expected ${options.targetExecutions}`);
    }
    const seedLogMs = performance.now() - started;
    const rebuildStarted = performance.now();
    const result = await rebuildReadModels(db, log);
    const seedReadModelsMs = performance.now() - rebuildStarted;
    db.writer.pragma('wal_checkpoint(TRUNCATE)');
    return {
      dbPath,
      targetWorkerId,
      workerIds,
      executions: options.executions,
      targetExecutions: options.targetExecutions,
      events: result.events,
      seedLogMs,
      seedReadModelsMs,
    };
  } finally {
    await db.close();
  }
}

/** The run's shared data set, seeded on first use. */
export async function sharedDataset(ctx: BenchContext): Promise<Dataset> {
  const cached = ctx.shared.get('dataset') as Promise<Dataset> | undefined;
  if (cached) return cached;
  const { executions, targetExecutions, otherWorkers } = ctx.sizes;
  ctx.log(`seeding ${executions} executions (${targetExecutions} for the paged worker) through EventStore.append + rebuildReadModels…`);
  const promise = seedDataset(ctx.tempDir('dataset'), { executions, targetExecutions, otherWorkers, log: ctx.log }).then((d) => {
    ctx.log(`seeded: log ${(d.seedLogMs / 1000).toFixed(1)} s, read models ${(d.seedReadModelsMs / 1000).toFixed(1)} s, ${d.events} events`);
    return d;
  });
  ctx.shared.set('dataset', promise);
  return promise;
}
