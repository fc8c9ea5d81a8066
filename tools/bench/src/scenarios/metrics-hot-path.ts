import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRouteLabeler } from '@handinger-webhooks/api';
import { openApplication } from '@handinger-webhooks/commands';
import { Metrics, createOperatorRoutes, readinessCheck } from '@handinger-webhooks/metrics';
import type { BenchContext } from '../context.js';

const WORKER = 't_org_local_w_01HZY2ZJQ8G7K42W2D7WF6V4GM';
/** What the API scenarios and the task runner send, in turn. */
const REQUESTS = [
  { method: 'GET', url: `/api/workers/${WORKER}/webhook/executions?page=4000`, status: 200 },
  { method: 'POST', url: '/api/task-completions', status: 202 },
  { method: 'GET', url: `/api/workers/${WORKER}/webhook`, status: 200 },
  { method: 'PUT', url: `/api/workers/${WORKER}/webhook`, status: 200 },
] as const;

/** Nanoseconds per call of `work(i)`, best of a few rounds after a warm-up (the JIT's steady state). */
function nsPerCall(work: (i: number) => void, calls: number): number {
  let best = Number.POSITIVE_INFINITY;
  for (let round = 0; round < 6; round++) {
    const started = process.hrtime.bigint();
    for (let i = 0; i < calls; i++) work(i);
    const ns = Number(process.hrtime.bigint() - started) / calls;
    if (round > 0) best = Math.min(best, ns);
  }
  return best;
}

/**
 * The CPU the metrics add per API request and per delivery attempt, timed
 * in this process on the very code the server runs: the operator-route
 * check every request passes, the route label, and the HTTP recording; the
 * attempt recording. Independent of what else runs on the machine, unlike
 * a throughput ratio of two servers.
 */
export async function metricsHotPathCost(ctx: BenchContext): Promise<{ perRequestNs: number; perAttemptNs: number }> {
  const app = await openApplication({ db: ':memory:' });
  try {
    const metrics = new Metrics();
    const label = createRouteLabeler({ app, allowPrivateNetwork: true, version: 'bench' });
    const routes = createOperatorRoutes({ metrics, readiness: readinessCheck({ ping: async () => true }) });
    const requests = REQUESTS.map((r) => ({ req: { method: r.method, url: r.url } as IncomingMessage, status: r.status }));
    const res = {} as ServerResponse;
    const calls = ctx.quick ? 200_000 : 1_000_000;
    let sink = 0;
    const perRequestNs = nsPerCall((i) => {
      const { req, status } = requests[i & 3]!;
      if (routes(req, res)) sink++;
      metrics.observeHttp(req.method, label(req.method, req.url), status, 0.0002 + (i & 7) * 0.001);
    }, calls);
    const results = ['success', 'success', 'success', 'http_error'] as const;
    const perAttemptNs = nsPerCall((i) => metrics.delivery.attemptEnded({ result: results[i & 3]!, durationMs: 3 + (i & 15), attempt: 1 + (i & 1), type: 'task.completed' }), calls);
    if (sink !== 0) throw new Error('an API request was taken for an operator route');
    return { perRequestNs, perAttemptNs };
  } finally {
    await app.close();
  }
}
