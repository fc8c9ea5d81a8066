/**
 * HTTP load generator, in its own process so it does not share the server's
 * core: an undici Pool with a fixed number of keep-alive connections, each
 * running one request at a time (no pipelining) in a closed loop, for a
 * warm-up and then a fixed duration. Every response body is read in full.
 *
 *   node load-generator.js '{"url":…,"headers":{…},"connections":16,"durationMs":5000,"warmupMs":1000}'
 *
 * Sends `{ type: 'result', requests, non2xx, errors, elapsedMs, perSecond, p50ms, p99ms, firstBody }` and exits.
 */
import { Pool } from 'undici';
import { exitWithParent, send } from './child.js';

interface LoadOptions {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  connections: number;
  durationMs: number;
  warmupMs: number;
}

exitWithParent();
const options = JSON.parse(process.argv[2] ?? '{}') as LoadOptions;
const target = new URL(options.url);
const pool = new Pool(target.origin, { connections: options.connections, pipelining: 1, keepAliveTimeout: 60_000 });
const path = `${target.pathname}${target.search}`;

let requests = 0;
let non2xx = 0;
let errors = 0;
let firstBody = '';
let firstError = '';
const latencies: number[] = [];

async function loop(until: number, measure: boolean): Promise<void> {
  while (performance.now() < until) {
    const started = performance.now();
    try {
      const response = await pool.request({ path, method: (options.method ?? 'GET') as 'GET', headers: options.headers ?? {} });
      const body = await response.body.text();
      if (!firstBody) firstBody = body.slice(0, 300);
      if (!measure) continue;
      requests++;
      if (response.statusCode < 200 || response.statusCode > 299) non2xx++;
      latencies.push(performance.now() - started);
    } catch (error) {
      if (!firstError) firstError = String(error);
      if (measure) errors++;
    }
  }
}

const warmupUntil = performance.now() + options.warmupMs;
await Promise.all(Array.from({ length: options.connections }, () => loop(warmupUntil, false)));
const started = performance.now();
const until = started + options.durationMs;
await Promise.all(Array.from({ length: options.connections }, () => loop(until, true)));
const elapsedMs = performance.now() - started;
latencies.sort((a, b) => a - b);
const at = (q: number) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]! : Number.NaN);
await send({
  type: 'result',
  requests,
  non2xx,
  errors,
  elapsedMs,
  perSecond: (requests * 1000) / elapsedMs,
  p50ms: at(0.5),
  p99ms: at(0.99),
  firstBody,
  firstError,
});
await pool.close();
process.exit(0);
