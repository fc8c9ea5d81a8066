import { randomBytes } from 'node:crypto';
import { request } from 'undici';
import { EXECUTIONS_PAGE_SIZE } from '@handinger-webhooks/contracts';
import type { BenchContext } from '../context.js';
import { sharedDataset } from '../dataset.js';
import { childScript, runForResult, spawnProcess, waitForIdle, type ChildHandle } from '../proc.js';
import { makeRow, type ScenarioResult } from '../result.js';
import { interleave, pick } from '../runner.js';
import { serverUnavailable, startServer } from '../server.js';

/** The bootstrap key of this run (≥ 32 characters): registered by the first server started on the shared database. */
export function runBootstrapKey(ctx: BenchContext): string {
  let key = ctx.shared.get('bootstrapKey') as string | undefined;
  if (!key) {
    key = `hwk_bench_${randomBytes(24).toString('base64url')}`;
    ctx.shared.set('bootstrapKey', key);
  }
  return key;
}

interface LoadResult {
  perSecond: number;
  p50ms: number;
  p99ms: number;
  requests: number;
  non2xx: number;
  errors: number;
}

/** Runs the load generator (its own process) against `url` and returns its figures. */
export async function load(ctx: BenchContext, url: string, headers: Record<string, string>, durationMs = ctx.sizes.httpDurationMs): Promise<LoadResult> {
  const { httpConnections, httpWarmupMs } = ctx.sizes;
  const httpDurationMs = durationMs;
  const result = await runForResult(
    { args: [childScript('load-generator'), JSON.stringify({ url, headers, connections: httpConnections, durationMs: httpDurationMs, warmupMs: httpWarmupMs })] },
    httpDurationMs + httpWarmupMs + 60_000,
  );
  if (Number(result.requests) === 0) throw new Error(`no request completed against ${url}: ${String(result.firstError)}`);
  if (Number(result.non2xx) > 0 || Number(result.errors) > 0) {
    throw new Error(`${String(result.non2xx)} non-2xx answers and ${String(result.errors)} errors from ${url}; first body: ${String(result.firstBody)} ${String(result.firstError)}`);
  }
  return {
    perSecond: Number(result.perSecond),
    p50ms: Number(result.p50ms),
    p99ms: Number(result.p99ms),
    requests: Number(result.requests),
    non2xx: Number(result.non2xx),
    errors: Number(result.errors),
  };
}

async function getJson(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: unknown }> {
  const response = await request(url, { headers });
  const text = await response.body.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // keep the text
  }
  return { status: response.statusCode, body };
}

/**
 * Scenario 5: `GET /api/workers/{id}/webhook/executions?page=N` through the
 * real server (the CLI's `serve`, a child process, default log level, its
 * stdout to a file) driven by a load generator in a third process (undici,
 * fixed keep-alive connections, fixed duration), against a bare node:http
 * handler running the product's prepared statements on the same database.
 */
export async function apiHttpScenario(ctx: BenchContext): Promise<ScenarioResult> {
  const result: ScenarioResult = { id: 'api', title: 'API over HTTP', rows: [], details: {}, notes: [], durationMs: 0 };
  const unavailable = serverUnavailable();
  if (unavailable) return { ...result, skipped: unavailable };
  const dataset = await sharedDataset(ctx);
  const started = performance.now();
  const key = runBootstrapKey(ctx);
  const lastPage = Math.ceil(dataset.targetExecutions / EXECUTIONS_PAGE_SIZE);
  const path = (page: number) => `/api/workers/${dataset.targetWorkerId}/webhook/executions?page=${page}`;
  const auth = { authorization: `Bearer ${key}` };

  const server = await startServer(ctx, { dbPath: dataset.dbPath, env: { HANDINGER_BOOTSTRAP_KEY: key }, name: 'api-server' });
  let raw: ChildHandle | undefined;
  try {
    raw = spawnProcess({ args: [childScript('raw-api-server'), dataset.dbPath], ipc: true });
    const rawUrl = `http://127.0.0.1:${Number((await raw.message('ready', 30_000)).port)}`;
    // The delivery app in the server follows the whole log once on a fresh database: let it finish.
    const settled = await waitForIdle(server.pid, { timeoutMs: 180_000 });
    if (!settled) result.notes.push('the server did not go idle within 180 s before the load started');

    // --quick proves the scenario runs: the deep page alone.
    for (const page of ctx.quick ? [lastPage] : [1, lastPage]) {
      // Same answer from both sides, or the comparison means nothing.
      const fromProduct = await getJson(`${server.url}${path(page)}`, auth);
      const fromRaw = await getJson(`${rawUrl}${path(page)}`);
      if (fromProduct.status !== 200) throw new Error(`the server answered ${fromProduct.status} for page ${page}: ${JSON.stringify(fromProduct.body).slice(0, 300)}`);
      const same = JSON.stringify(fromProduct.body) === JSON.stringify(fromRaw.body);
      if (!same) result.notes.push(`page ${page}: the server's answer differs from ReadModels.executionsPage's`);

      // Warm both servers' JIT on this route, unrecorded (a fresh process is up to 2× slower for its first second).
      const warmMs = ctx.quick ? 500 : ctx.sizes.httpDurationMs;
      await load(ctx, `${rawUrl}${path(page)}`, {}, warmMs);
      await load(ctx, `${server.url}${path(page)}`, auth, warmMs);
      const runs = await interleave({
        reps: ctx.sizes.reps,
        label: `API page ${page}`,
        log: ctx.log,
        ceiling: async () => {
          const r = await load(ctx, `${rawUrl}${path(page)}`, {});
          return { perSecond: r.perSecond, p50ms: r.p50ms, p99ms: r.p99ms };
        },
        product: async () => {
          const r = await load(ctx, `${server.url}${path(page)}`, auth);
          return { perSecond: r.perSecond, p50ms: r.p50ms, p99ms: r.p99ms };
        },
      });
      result.rows.push(
        makeRow({
          scenario: result.title,
          case: `GET …/webhook/executions?page=${page.toLocaleString('en-US')} (${dataset.targetExecutions.toLocaleString('en-US')} executions), ${ctx.sizes.httpConnections} keep-alive connections`,
          unit: 'req/s',
          higherIsBetter: true,
          product: pick(runs.product, 'perSecond'),
          ceiling: pick(runs.ceiling, 'perSecond'),
          target: { kind: 'ratio-at-least', value: 0.6 },
        }),
      );
      result.details[`page ${page}`] = {
        sameAnswer: same,
        latencyP50ms: { product: pick(runs.product, 'p50ms'), ceiling: pick(runs.ceiling, 'p50ms') },
        latencyP99ms: { product: pick(runs.product, 'p99ms'), ceiling: pick(runs.ceiling, 'p99ms') },
      };
    }
    result.details.serverPeakRssMb = server.peakRssMb();
    result.details.durationMsPerRep = ctx.sizes.httpDurationMs;
    result.notes.push(
      `Server: \`handinger-webhooks serve\` (node bin, HANDINGER_LOG_LEVEL=info, one JSON log line per request to a file), bootstrap user key. Ceiling: bare node:http + ReadModels.executionsPage on the same file. Load: undici Pool in a separate process, ${ctx.sizes.httpConnections} connections, no pipelining, ${ctx.sizes.httpWarmupMs} ms warm-up + ${ctx.sizes.httpDurationMs} ms measured per repetition; every answer checked 2xx.`,
    );
  } finally {
    await raw?.stop();
    await server.stop();
  }
  result.durationMs = performance.now() - started;
  return result;
}
