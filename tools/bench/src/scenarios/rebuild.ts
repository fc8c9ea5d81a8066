import { openSqliteDatabase } from '@handinger-webhooks/storage-sqlite';
import { profileArgs, type BenchContext } from '../context.js';
import { sharedDataset } from '../dataset.js';
import { childScript, runForResult } from '../proc.js';
import { makeRow, type ScenarioResult } from '../result.js';
import { pick, rotate } from '../runner.js';
import { perSecond } from '../stats.js';

/** Runs one side in a fresh process and returns its figures (the process's own peak RSS included). */
async function runSide(ctx: BenchContext, side: 'product' | 'ceiling' | 'same', dbPath: string): Promise<{ perSecond: number; ms: number; events: number; peakRssMb: number }> {
  // Start every side from the same state: WAL folded into the database file.
  const db = openSqliteDatabase(dbPath);
  db.writer.pragma('wal_checkpoint(TRUNCATE)');
  await db.close();
  const result = await runForResult({ args: [childScript('rebuild-side'), side, dbPath], execArgv: side === 'product' ? profileArgs(ctx, 'rebuild') : [] }, 15 * 60_000);
  const ms = Number(result.ms);
  const events = Number(result.events);
  return { perSecond: perSecond(events, ms), ms, events, peakRssMb: Number(result.peakRssMb) };
}

/**
 * Scenario 6: `rebuildReadModels` (what `rebuild-projections` runs) over the
 * shared log of 1,000,000 executions, against raw batched inserts of the
 * same rows; each side in its own child process so peak RSS is per side.
 */
export async function rebuildScenario(ctx: BenchContext): Promise<ScenarioResult> {
  const dataset = await sharedDataset(ctx);
  const started = performance.now();
  const reps = ctx.sizes.rebuildReps;
  const runs = await rotate({
    reps,
    label: 'rebuild',
    log: ctx.log,
    sides: {
      ceiling: () => runSide(ctx, 'ceiling', dataset.dbPath),
      same: () => runSide(ctx, 'same', dataset.dbPath),
      product: () => runSide(ctx, 'product', dataset.dbPath),
    },
  });
  const events = runs.product[0]?.events ?? dataset.events;
  const result: ScenarioResult = { id: 'rebuild', title: 'rebuild', rows: [], details: {}, notes: [], durationMs: 0 };
  result.rows.push(
    makeRow({
      scenario: result.title,
      case: `rebuildReadModels over ${events.toLocaleString('en-US')} events vs raw batched inserts of the same rows`,
      unit: 'events/s',
      higherIsBetter: true,
      product: pick(runs.product, 'perSecond'),
      ceiling: pick(runs.ceiling, 'perSecond'),
      target: { kind: 'ratio-at-least', value: 0.5 },
    }),
    makeRow({
      scenario: result.title,
      case: "rebuildReadModels vs raw running the product's projection statements for these events",
      unit: 'events/s',
      higherIsBetter: true,
      product: pick(runs.product, 'perSecond'),
      ceiling: pick(runs.same, 'perSecond'),
    }),
    makeRow({
      scenario: result.title,
      case: "raw running the product's projection statements vs raw batched inserts of the same rows",
      unit: 'events/s',
      higherIsBetter: true,
      product: pick(runs.same, 'perSecond'),
      ceiling: pick(runs.ceiling, 'perSecond'),
    }),
    makeRow({
      scenario: result.title,
      case: 'peak RSS of the rebuilding process',
      unit: 'MB',
      higherIsBetter: false,
      product: pick(runs.product, 'peakRssMb'),
      ceiling: pick(runs.ceiling, 'peakRssMb'),
      target: { kind: 'below', value: 200, unit: 'MB', of: 'max' },
      targetApplies: !ctx.quick,
    }),
  );
  result.details = { events, secondsProduct: pick(runs.product, 'ms').map((ms) => ms / 1000), secondsCeiling: pick(runs.ceiling, 'ms').map((ms) => ms / 1000) };
  result.notes.push(
    'Each side runs in its own child process (peak RSS = its VmHWM / maxRSS). Ceiling: one prepared SELECT over the log in batches of 10,000, JSON.parse, prepared INSERTs of the same worker and execution rows (rank computed in a Map) into tables made with the product DDL, one transaction per batch; the product also rebuilds the other read models, checks its lease per batch and swaps the tables in at the end. Same-statements side: the ceiling plus, per attempt, every other statement the product\'s projections run for it (failure span update, queue and held deletes, an exhausted attempt\'s failed-deliveries row).',
  );
  result.durationMs = performance.now() - started;
  return result;
}
