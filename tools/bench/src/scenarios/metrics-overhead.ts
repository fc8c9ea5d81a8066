import { EXECUTIONS_PAGE_SIZE } from '@handinger-webhooks/contracts';
import type { BenchContext } from '../context.js';
import { sharedDataset } from '../dataset.js';
import { childScript, spawnProcess, waitForIdle } from '../proc.js';
import { makeRow, type ScenarioResult } from '../result.js';
import { interleave, pick } from '../runner.js';
import { serverUnavailable, startServer } from '../server.js';
import { load, runBootstrapKey } from './api-http.js';
import { productRep } from './delivery.js';

/**
 * The server's internal switch that leaves the metrics out (no recording on
 * the delivery and API hot paths, no process metrics): the baseline of this
 * scenario only, not a documented setting.
 */
const METRICS_OFF = { HANDINGER_INTERNAL_METRICS: 'off' };

/**
 * Issue 14: what recording the metrics of SPEC §10 costs. The same product
 * paths as the `delivery` and `api` scenarios, with metrics (as shipped) and
 * without (the baseline, in the "ceiling" column), interleaved in the same
 * run; target: at least 0.97× (at most 3 % slower).
 */
export async function metricsOverheadScenario(ctx: BenchContext): Promise<ScenarioResult> {
  const result: ScenarioResult = { id: 'metrics', title: 'metrics overhead', rows: [], details: {}, notes: [], durationMs: 0 };
  const unavailable = serverUnavailable();
  if (unavailable) return { ...result, skipped: unavailable };
  const started = performance.now();
  const { deliveries: count, deliveryConcurrency: concurrency } = ctx.sizes;

  const receiver = spawnProcess({ args: [childScript('receiver')], ipc: true });
  try {
    const receiverUrl = `http://127.0.0.1:${Number((await receiver.message('ready', 30_000)).port)}`;
    for (const ingestion of ['log', 'api'] as const) {
      const runs = await interleave({
        reps: ctx.sizes.reps,
        label: `metrics overhead, delivery (${ingestion})`,
        log: ctx.log,
        ceiling: () => productRep(ctx, receiver, receiverUrl, count, concurrency, ingestion, METRICS_OFF),
        product: () => productRep(ctx, receiver, receiverUrl, count, concurrency, ingestion),
      });
      result.rows.push(
        makeRow({
          scenario: result.title,
          case: `end-to-end delivery, ${count.toLocaleString('en-US')} completions ${ingestion === 'log' ? 'recorded in the log' : 'POSTed to the API'}: metrics on vs off`,
          unit: 'deliveries/s',
          higherIsBetter: true,
          product: pick(runs.product, 'perSecond'),
          ceiling: pick(runs.ceiling, 'perSecond'),
          target: { kind: 'ratio-at-least', value: 0.97 },
        }),
      );
    }
  } finally {
    await receiver.stop();
  }

  const dataset = await sharedDataset(ctx);
  const key = runBootstrapKey(ctx);
  const path = `/api/workers/${dataset.targetWorkerId}/webhook/executions?page=${Math.ceil(dataset.targetExecutions / EXECUTIONS_PAGE_SIZE)}`;
  const auth = { authorization: `Bearer ${key}` };
  const withMetrics = await startServer(ctx, { dbPath: dataset.dbPath, env: { HANDINGER_BOOTSTRAP_KEY: key }, name: 'metrics-on-server' });
  const without = await startServer(ctx, { dbPath: dataset.dbPath, env: { HANDINGER_BOOTSTRAP_KEY: key, ...METRICS_OFF }, name: 'metrics-off-server' });
  try {
    for (const server of [withMetrics, without]) await waitForIdle(server.pid, { timeoutMs: 180_000 });
    const warmMs = ctx.quick ? 500 : ctx.sizes.httpDurationMs;
    for (const server of [withMetrics, without]) await load(ctx, `${server.url}${path}`, auth, warmMs);
    const runs = await interleave({
      reps: ctx.sizes.reps,
      label: 'metrics overhead, API',
      log: ctx.log,
      ceiling: async () => ({ perSecond: (await load(ctx, `${without.url}${path}`, auth)).perSecond }),
      product: async () => ({ perSecond: (await load(ctx, `${withMetrics.url}${path}`, auth)).perSecond }),
    });
    result.rows.push(
      makeRow({
        scenario: result.title,
        case: `API: GET …/webhook/executions (deep page), ${ctx.sizes.httpConnections} keep-alive connections: metrics on vs off`,
        unit: 'req/s',
        higherIsBetter: true,
        product: pick(runs.product, 'perSecond'),
        ceiling: pick(runs.ceiling, 'perSecond'),
        target: { kind: 'ratio-at-least', value: 0.97 },
      }),
    );
  } finally {
    await withMetrics.stop();
    await without.stop();
  }
  result.notes.push(
    'Product: `serve` as shipped (metrics recorded). Ceiling column: the same server with HANDINGER_INTERNAL_METRICS=off (an internal switch of the bench: no recording, no process metrics). Same paths and sizes as the `delivery` and `api` scenarios, interleaved.',
  );
  result.durationMs = performance.now() - started;
  return result;
}
