import { EXECUTIONS_PAGE_SIZE } from '@handinger-webhooks/contracts';
import type { BenchContext } from '../context.js';
import { sharedDataset } from '../dataset.js';
import { cpuTimeMs, waitForIdle, startReceiverProcess } from '../proc.js';
import { makeRow, type ScenarioResult } from '../result.js';
import { interleave, pick } from '../runner.js';
import { serverUnavailable, startServer } from '../server.js';
import { load, runBootstrapKey } from './api-http.js';
import { microseconds, productRep } from './delivery.js';
import { metricsHotPathCost } from './metrics-hot-path.js';

/**
 * The server's internal switch that leaves the metrics out (no recording on
 * the delivery and API hot paths, no process metrics): the baseline of this
 * scenario only, not a documented setting.
 */
const METRICS_OFF = { HANDINGER_INTERNAL_METRICS: 'off' };

/** A repetition's server CPU per delivery (all threads, during the clock). */
const cpuRow = (what: string, unit: string, product: number[], ceiling: number[]) =>
  makeRow({ scenario: 'metrics overhead', case: what, unit, higherIsBetter: false, product, ceiling });

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

  const { receiver, receiverUrl } = await startReceiverProcess();
  try {
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
      result.rows.push(cpuRow(`server CPU per delivery (${ingestion === 'log' ? 'recorded in the log' : 'POSTed to the API'}), all threads: metrics on vs off`, 'µs CPU/delivery', microseconds(pick(runs.product, 'cpuMsPerDelivery')), microseconds(pick(runs.ceiling, 'cpuMsPerDelivery'))));
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
    /** Throughput, and the server's CPU time per request (less sensitive than throughput to what else runs on the machine). */
    const measuredLoad = async (server: typeof withMetrics) => {
      const cpu0 = cpuTimeMs(server.pid);
      const answered = await load(ctx, `${server.url}${path}`, auth);
      return { perSecond: answered.perSecond, cpuUs: ((cpuTimeMs(server.pid) - cpu0) * 1000) / answered.requests };
    };
    const runs = await interleave({
      reps: ctx.sizes.reps,
      label: 'metrics overhead, API',
      log: ctx.log,
      ceiling: () => measuredLoad(without),
      product: () => measuredLoad(withMetrics),
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
    result.rows.push(cpuRow('server CPU per API request (deep page), warm-up excluded: metrics on vs off', 'µs CPU/request', pick(runs.product, 'cpuUs'), pick(runs.ceiling, 'cpuUs')));
  } finally {
    await withMetrics.stop();
    await without.stop();
  }
  // The recording's own CPU, timed in-process, against the server's CPU per unit without metrics (same run).
  const cost = await metricsHotPathCost(ctx);
  const share = (ns: number, row: string) => {
    const baseline = result.rows.find((r) => r.case.startsWith(row))?.ceiling?.median;
    return baseline === undefined ? Number.NaN : ns / 1000 / baseline;
  };
  result.details.hotPath = {
    nsPerApiRequest: cost.perRequestNs,
    nsPerDeliveryAttempt: cost.perAttemptNs,
    shareOfServerCpuPerApiRequest: share(cost.perRequestNs, 'server CPU per API request'),
    // A delivery POSTed through the API is one request (its completion) and one attempt.
    shareOfServerCpuPerDelivery: share(cost.perAttemptNs + cost.perRequestNs, 'server CPU per delivery (POSTed'),
  };
  result.notes.push(
    `Recording, timed in-process on the server's code: ${cost.perRequestNs.toFixed(0)} ns per API request (operator-route check, route label, counter and histogram), ${cost.perAttemptNs.toFixed(0)} ns per delivery attempt; as a share of the server's CPU per unit without metrics in this run: ${(100 * (result.details.hotPath as { shareOfServerCpuPerApiRequest: number }).shareOfServerCpuPerApiRequest).toFixed(2)} % per API request, ${(100 * (result.details.hotPath as { shareOfServerCpuPerDelivery: number }).shareOfServerCpuPerDelivery).toFixed(2)} % per delivery POSTed through the API.`,
  );
  result.notes.push(
    'Product: `serve` as shipped (metrics recorded). Ceiling column: the same server with HANDINGER_INTERNAL_METRICS=off (an internal switch of the bench: no recording, no process metrics). Same paths and sizes as the `delivery` and `api` scenarios, interleaved. CPU rows: the server process\'s CPU time (/proc, all threads) per delivery or request; a ratio above 1 means metrics cost CPU.',
  );
  result.durationMs = performance.now() - started;
  return result;
}
