import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ATTEMPT_RESULTS } from '@handinger-webhooks/contracts';
import { afterEach, describe, expect, it } from 'vitest';
import { Metrics } from './metrics.js';
import { createOperatorRoutes } from './operator-routes.js';
import { readinessCheck } from './readiness.js';

/** The value of one series in a Prometheus text exposition (`undefined` when absent). */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('Metrics', () => {
  it('has every metric of SPEC §10, each attempt result and notification type at 0 from the start', async () => {
    const text = await new Metrics().render();
    for (const name of [
      'handinger_delivery_attempts_total',
      'handinger_delivery_attempt_duration_seconds',
      'handinger_notifications_total',
      'handinger_delivery_due',
      'handinger_delivery_oldest_due_age_seconds',
      'handinger_delivery_in_flight',
      'handinger_notifications_held',
      'handinger_webhooks_disabled',
      'handinger_http_requests_total',
      'handinger_http_request_duration_seconds',
      'handinger_ready',
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_seconds',
    ]) {
      expect(text, name).toContain(`# TYPE ${name} `);
    }
    for (const result of ATTEMPT_RESULTS) expect(sample(text, `handinger_delivery_attempts_total{result="${result}"}`)).toBe(0);
    expect(sample(text, 'handinger_notifications_total{type="webhook.test"}')).toBe(0);
  });

  it('counts attempts by result, their durations, and each notification once (at its first attempt)', async () => {
    const metrics = new Metrics({ processMetrics: false });
    metrics.delivery.attemptEnded({ result: 'success', durationMs: 12, attempt: 1, type: 'task.completed' });
    metrics.delivery.attemptEnded({ result: 'http_error', durationMs: 3_000, attempt: 1, type: 'task.error' });
    metrics.delivery.attemptEnded({ result: 'success', durationMs: 20, attempt: 2, type: 'task.error' });
    const text = await metrics.render();
    expect(sample(text, 'handinger_delivery_attempts_total{result="success"}')).toBe(2);
    expect(sample(text, 'handinger_delivery_attempts_total{result="http_error"}')).toBe(1);
    expect(sample(text, 'handinger_delivery_attempt_duration_seconds_count')).toBe(3);
    expect(sample(text, 'handinger_delivery_attempt_duration_seconds_bucket{le="0.025"}')).toBe(2);
    expect(sample(text, 'handinger_delivery_attempt_duration_seconds_sum')).toBeCloseTo(3.032);
    expect(sample(text, 'handinger_notifications_total{type="task.completed"}')).toBe(1);
    expect(sample(text, 'handinger_notifications_total{type="task.error"}')).toBe(1);
  });

  it('labels HTTP requests by method, route and status; an unknown method is OTHER', async () => {
    const metrics = new Metrics({ processMetrics: false });
    metrics.observeHttp('GET', '/api/workers/{workerId}/webhook', 200, 0.002);
    metrics.observeHttp('GET', '/api/workers/{workerId}/webhook', 200, 0.004);
    metrics.observeHttp('GET', '/api/workers/{workerId}/webhook', 404, 0.001);
    metrics.observeHttp('PROPFIND', 'unmatched', 404, 0.001);
    const text = await metrics.render();
    expect(sample(text, 'handinger_http_requests_total{method="GET",route="/api/workers/{workerId}/webhook",status="200"}')).toBe(2);
    expect(sample(text, 'handinger_http_requests_total{method="GET",route="/api/workers/{workerId}/webhook",status="404"}')).toBe(1);
    expect(sample(text, 'handinger_http_requests_total{method="OTHER",route="unmatched",status="404"}')).toBe(1);
    expect(sample(text, 'handinger_http_request_duration_seconds_count{method="GET",route="/api/workers/{workerId}/webhook"}')).toBe(3);
  });

  it('reads the database gauges once for a burst of scrapes, and answers a scrape when the database does not', async () => {
    const metrics = new Metrics({ processMetrics: false });
    let reads = 0;
    metrics.setSources({
      inFlight: () => 3,
      backlog: async () => ({ due: ++reads, oldestDueAgeSeconds: 7.5 }),
      webhookHealth: async () => ({ disabled: 2, held: 5 }),
      ready: async () => true,
    });
    const [first, second] = await Promise.all([metrics.render(), metrics.render()]);
    const third = await metrics.render();
    expect(reads).toBe(1);
    for (const text of [first!, second!, third]) {
      expect(sample(text, 'handinger_delivery_due')).toBe(1);
      expect(sample(text, 'handinger_delivery_oldest_due_age_seconds')).toBe(7.5);
      expect(sample(text, 'handinger_delivery_in_flight')).toBe(3);
      expect(sample(text, 'handinger_webhooks_disabled')).toBe(2);
      expect(sample(text, 'handinger_notifications_held')).toBe(5);
      expect(sample(text, 'handinger_ready')).toBe(1);
    }

    const stuck = new Metrics({ processMetrics: false });
    stuck.setSources({ backlog: () => new Promise(() => {}), webhookHealth: () => Promise.reject(new Error('database gone')) });
    const started = performance.now();
    const text = await stuck.render();
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(sample(text, 'handinger_delivery_due')).toBe(0);
    expect(sample(text, 'handinger_webhooks_disabled')).toBe(0);
  });
});

describe('operator routes', () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    server = undefined;
  });

  async function serve(options: { token?: string; ping?: () => Promise<boolean>; running?: boolean }): Promise<string> {
    const routes = createOperatorRoutes({
      metrics: new Metrics({ processMetrics: false }),
      token: options.token,
      health: true,
      readiness: readinessCheck({ ping: options.ping ?? (async () => true), delivery: options.running === undefined ? null : { running: () => options.running! }, timeoutMs: 200 }),
    });
    server = createServer((req, res) => {
      if (!routes(req, res)) {
        res.writeHead(404);
        res.end();
      }
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  it('serves /metrics as Prometheus text without auth when no token is set', async () => {
    const base = await serve({});
    const response = await fetch(`${base}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(await response.text()).toContain('handinger_delivery_attempts_total');
    expect((await fetch(`${base}/metrics`, { method: 'POST' })).status).toBe(404);
  });

  it('with a token, /metrics needs exactly `Authorization: Bearer <token>`; /healthz and /readyz do not', async () => {
    const base = await serve({ token: 'metrics-token-xyz' });
    for (const authorization of [undefined, 'Bearer wrong', 'metrics-token-xyz', 'bearer metrics-token-xyzz', 'Basic bWV0cmljcy10b2tlbi14eXo=']) {
      const response = await fetch(`${base}/metrics`, { headers: authorization === undefined ? {} : { authorization } });
      expect(response.status, String(authorization)).toBe(401);
      const body = (await response.json()) as { code: string };
      expect(body.code).toBe('UNAUTHORIZED');
      expect(JSON.stringify(body)).not.toContain('metrics-token-xyz');
    }
    expect((await fetch(`${base}/metrics`, { headers: { authorization: 'Bearer metrics-token-xyz' } })).status).toBe(200);
    expect((await fetch(`${base}/metrics`, { headers: { authorization: 'bearer metrics-token-xyz' } })).status).toBe(200);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
  });

  it('/readyz: 200 when the database answers and the delivery loop runs; 503 when either does not (a hung ping too)', async () => {
    expect(await (await fetch(`${await serve({ running: true })}/readyz`)).json()).toEqual({ status: 'ready' });
    await new Promise((resolve) => server!.close(resolve));
    const stopped = await fetch(`${await serve({ running: false })}/readyz`);
    expect(stopped.status).toBe(503);
    expect(await stopped.json()).toEqual({ status: 'not ready', database: 'ok', delivery: 'stopped' });
    await new Promise((resolve) => server!.close(resolve));
    const hung = await fetch(`${await serve({ ping: () => new Promise(() => {}) })}/readyz`);
    expect(hung.status).toBe(503);
    expect(await hung.json()).toEqual({ status: 'not ready', database: 'unreachable', delivery: 'none' });
  });
});
