import { EXECUTIONS_PAGE_SIZE } from '@handinger-webhooks/contracts';
import type { Sql, SqlParam } from '@handinger-webhooks/event-store';
import { ReadModels } from '@handinger-webhooks/projections';
import { openSqliteDatabase, type SqliteConnection } from '@handinger-webhooks/storage-sqlite';
import type { BenchContext } from '../context.js';
import { sharedDataset } from '../dataset.js';
import { makeRow, type ScenarioResult } from '../result.js';
import { interleave, pick } from '../runner.js';
import { latencySummary } from '../stats.js';

/** One statement call made by the product: its SQL (with `?` placeholders), method and bound values. */
export interface CapturedCall {
  sql: string;
  method: 'get' | 'all' | 'run' | 'insert';
  args: readonly SqlParam[];
}

/**
 * The statements `executionsPage` actually runs for one call, with their
 * bound values: `ReadModels` is built over an `Sql` that records each call
 * before passing it on. Nothing is re-typed, so the raw side and the plans
 * follow the product's SQL as it changes.
 */
export async function capturePageQueries(sql: Sql, workerId: string, page: number): Promise<CapturedCall[]> {
  const captured: CapturedCall[] = [];
  const recording: Sql = {
    dialect: sql.dialect,
    run: (text, args = []) => (captured.push({ sql: text, method: 'run', args }), sql.run(text, args)),
    get: (text, args = []) => (captured.push({ sql: text, method: 'get', args }), sql.get(text, args)),
    all: (text, args = []) => (captured.push({ sql: text, method: 'all', args }), sql.all(text, args)),
    insert: (text, args = []) => (captured.push({ sql: text, method: 'insert', args }), sql.insert(text, args)),
  };
  await new ReadModels(recording).executionsPage(workerId, page);
  return captured;
}

/** EXPLAIN QUERY PLAN of one statement, one line per step. */
export function queryPlan(db: SqliteConnection, sql: string, args: readonly unknown[] = []): string[] {
  return (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...args) as { detail: string }[]).map((row) => row.detail);
}

/** A plan step that reads a table or index from end to end, or sorts: what a page query must never do. */
export const isScan = (step: string): boolean => /^SCAN\b/.test(step) || /TEMP B-TREE/.test(step);

/** Times `calls` calls of `fn` one by one (awaited when it returns a promise); returns per-call milliseconds. */
async function timeCalls(calls: number, fn: () => unknown): Promise<Float64Array> {
  const out = new Float64Array(calls);
  for (let i = 0; i < calls; i++) {
    const t0 = process.hrtime.bigint();
    await fn();
    out[i] = Number(process.hrtime.bigint() - t0) / 1e6;
  }
  return out;
}

/**
 * Scenario 4: `ReadModels.executionsPage` (what `listExecutions` and the REST
 * route call) in-process, for the worker with 200,000 executions among
 * 1,000,000: page 1 and the last page. The raw side runs the very SQL the
 * product ran (captured, not re-typed) as prepared statements without
 * mapping rows, so the ratio shows the cost of our layer. The plan of every
 * statement is shown, and must neither scan nor sort.
 */
export async function executionPagesScenario(ctx: BenchContext): Promise<ScenarioResult> {
  const dataset = await sharedDataset(ctx);
  const started = performance.now();
  const workerId = dataset.targetWorkerId;
  const lastPage = Math.ceil(dataset.targetExecutions / EXECUTIONS_PAGE_SIZE);
  const pages = [1, lastPage];
  const result: ScenarioResult = { id: 'pages', title: 'execution pages', rows: [], details: {}, notes: [], durationMs: 0 };

  const database = openSqliteDatabase(dataset.dbPath);
  const db = database.writer;
  try {
    const readModels = new ReadModels(database.sql);
    const plans: Record<string, { sql: string; args: readonly unknown[]; plan: string[] }[]> = {};
    let scanningSteps = 0;
    const checks: string[] = [];
    for (const page of pages) {
      const statements = await capturePageQueries(database.sql, workerId, page);
      plans[`page ${page}`] = statements.map((call) => ({ sql: call.sql, args: call.args, plan: queryPlan(db, call.sql, call.args) }));
      scanningSteps += plans[`page ${page}`]!.flatMap((s) => s.plan).filter(isScan).length;

      const answer = await readModels.executionsPage(workerId, page);
      const expectedCount = dataset.targetExecutions;
      const ordered = answer.logs.every((l, i, all) => i === 0 || `${all[i - 1]!.createdAt}${all[i - 1]!.id}` > `${l.createdAt}${l.id}`);
      if (answer.totalCount !== expectedCount || answer.logs.length !== EXECUTIONS_PAGE_SIZE || !ordered || answer.pageCount !== lastPage) {
        checks.push(`page ${page}: totalCount ${answer.totalCount}/${expectedCount}, ${answer.logs.length} logs, pageCount ${answer.pageCount}/${lastPage}, ordered ${ordered}`);
      }

      // The raw side: the captured statements, prepared once, rows not mapped.
      const raw = statements.map((call) => ({ statement: db.prepare(call.sql), args: call.args, method: call.method }));
      const rawCall = () => {
        for (const { statement, args, method } of raw) {
          if (method === 'get') statement.get(...args);
          else statement.all(...args);
        }
      };
      const productCall = () => readModels.executionsPage(workerId, page);
      await timeCalls(500, rawCall);
      await timeCalls(500, productCall);
      const runs = await interleave({
        reps: ctx.sizes.reps,
        label: `page ${page}`,
        log: ctx.log,
        ceiling: async () => {
          const l = latencySummary(await timeCalls(ctx.sizes.pageCalls, rawCall));
          return { p50: l.p50, p99: l.p99 };
        },
        product: async () => {
          const l = latencySummary(await timeCalls(ctx.sizes.pageCalls, productCall));
          return { p50: l.p50, p99: l.p99 };
        },
      });
      result.rows.push(
        makeRow({
          scenario: result.title,
          case: `page ${page.toLocaleString('en-US')} of ${lastPage.toLocaleString('en-US')}, worker with ${dataset.targetExecutions.toLocaleString('en-US')} of ${dataset.executions.toLocaleString('en-US')} executions: p50`,
          unit: 'ms',
          higherIsBetter: false,
          product: pick(runs.product, 'p50'),
          ceiling: pick(runs.ceiling, 'p50'),
          target: { kind: 'below', value: 1, unit: 'ms', of: 'median' },
          targetApplies: !ctx.quick,
        }),
      );
      result.details[`page ${page} p99 ms`] = { product: pick(runs.product, 'p99'), ceiling: pick(runs.ceiling, 'p99') };
    }
    result.rows.push(
      makeRow({
        scenario: result.title,
        case: 'totalCount and page reads: plan steps that scan or sort (EXPLAIN QUERY PLAN)',
        unit: 'steps',
        higherIsBetter: false,
        product: [scanningSteps],
        target: { kind: 'below', value: 1, unit: 'steps', of: 'max' },
      }),
    );
    result.details.plans = plans;
    result.details.callsPerRep = ctx.sizes.pageCalls;
    const first = plans['page 1']!;
    result.notes.push(
      `Statements executionsPage ran (captured) and their plans: ${first.map((s, i) => `(${i + 1}) \`${s.sql.replace(/\s+/g, ' ')}\` → ${s.plan.join('; ')}`).join(' ')}`,
    );
    if (checks.length) {
      result.rows.at(-1)!.pass = false;
      result.notes.push(`WRONG ANSWERS: ${checks.join('; ')}`);
    } else {
      result.notes.push('Answers checked: totalCount, pageCount, 50 logs per page, newest first.');
    }
  } finally {
    await database.close();
  }
  result.durationMs = performance.now() - started;
  return result;
}
