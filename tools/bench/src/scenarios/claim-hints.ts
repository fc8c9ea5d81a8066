import type { BenchContext } from '../context.js';
import { startReceiverProcess } from '../proc.js';
import { makeRow, type ScenarioResult } from '../result.js';
import { interleave, pick } from '../runner.js';
import { serverUnavailable } from '../server.js';
import { microseconds, productRep } from './delivery.js';

/** The server's internal switch that drops the claim hints (every claim reads everything again): this scenario's baseline only. */
const HINTS_OFF = { HANDINGER_INTERNAL_CLAIM_HINTS: 'off' };

/**
 * What the delivery loop's claim hints buy (apps/delivery/src/claim-hints.ts):
 * the delivery scenario's path from the log — one receiver origin, so its
 * backlog fills the per-origin cap and every claim would otherwise walk the
 * other origins and look up the next due time again — with the hints (as
 * shipped) and without (the "ceiling" column), interleaved.
 */
export async function claimHintsScenario(ctx: BenchContext): Promise<ScenarioResult> {
  const result: ScenarioResult = { id: 'claim-hints', title: 'claim hints', rows: [], details: {}, notes: [], durationMs: 0 };
  const unavailable = serverUnavailable();
  if (unavailable) return { ...result, skipped: unavailable };
  const started = performance.now();
  const { deliveries: count, deliveryConcurrency: concurrency } = ctx.sizes;
  const { receiver, receiverUrl } = await startReceiverProcess();
  try {
    const runs = await interleave({
      reps: ctx.sizes.reps,
      label: 'claim hints',
      log: ctx.log,
      ceiling: () => productRep(ctx, receiver, receiverUrl, count, concurrency, 'log', HINTS_OFF),
      product: () => productRep(ctx, receiver, receiverUrl, count, concurrency, 'log'),
    });
    const what = `${count.toLocaleString('en-US')} completions recorded in the log → delivered → recorded, one origin`;
    result.rows.push(makeRow({ scenario: result.title, case: `${what}: hints on vs off`, unit: 'deliveries/s', higherIsBetter: true, product: pick(runs.product, 'perSecond'), ceiling: pick(runs.ceiling, 'perSecond') }));
    result.rows.push(makeRow({ scenario: result.title, case: `server CPU per delivery, all threads: hints on vs off`, unit: 'µs CPU/delivery', higherIsBetter: false, product: microseconds(pick(runs.product, 'cpuMsPerDelivery')), ceiling: microseconds(pick(runs.ceiling, 'cpuMsPerDelivery')) }));
  } finally {
    await receiver.stop();
  }
  result.durationMs = performance.now() - started;
  return result;
}
