import { afterEach, describe, expect, it } from 'vitest';
import {
  TEST_BACKENDS,
  TEST_SECRET_KEY,
  createTestDatabase,
  runCli,
  scrapeMetrics,
  startPostgres,
  startReceiver,
  startServerProcess,
  waitFor,
  type PostgresServer,
  type Receiver,
  type ServerProcess,
  type TestDatabase,
} from '@handinger-webhooks/testing';

/**
 * SPEC §10 with real processes, real receivers and both backends: attempt
 * results counted where their outcome is known, by `serve` and by
 * `deliver --metrics-port`; labels that stay bounded after traffic to 200
 * workers; the metrics token; `/readyz` through a database outage.
 */

const USER_KEY = 'hwk_metrics_test_user_key_0123456789abcdefghi';

let database: TestDatabase | undefined;
let postgres: PostgresServer | undefined;
const receivers: Receiver[] = [];
const processes: ServerProcess[] = [];
afterEach(async () => {
  await Promise.all(processes.splice(0).map((p) => p.stop('SIGKILL')));
  await Promise.all(receivers.splice(0).map((r) => r.close()));
  await database?.drop();
  await postgres?.stop();
  database = postgres = undefined;
});

async function call(baseUrl: string, key: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? null : JSON.parse(text) };
}

async function start(args: string[], env: Record<string, string>, readyMessage?: string): Promise<ServerProcess> {
  const started = await startServerProcess({ args, env, ...(readyMessage ? { readyMessage } : {}) });
  processes.push(started);
  return started;
}

async function receiver(handler?: Parameters<typeof startReceiver>[0]): Promise<Receiver> {
  const started = await startReceiver(handler);
  receivers.push(started);
  return started;
}

/** A worker of the bootstrap user with a webhook to `url`. */
async function workerWithWebhook(api: ServerProcess, url: string): Promise<string> {
  const worker = await call(api.baseUrl, USER_KEY, 'POST', '/api/workers', { title: 'metrics' });
  expect(worker.status).toBe(200);
  expect((await call(api.baseUrl, USER_KEY, 'PUT', `/api/workers/${worker.body.id}/webhook`, { url })).status).toBe(200);
  return worker.body.id as string;
}

describe.each(TEST_BACKENDS)('metrics on %s', (backend) => {
  it('count each attempt result (success, 500, timeout, refused, redirect, blocked) with real receivers, in deliver --metrics-port', async () => {
    database = await createTestDatabase(backend);
    // One attempt each (the retry is an hour away); attempts that hang end at 500 ms.
    const env = { ...database.env, HANDINGER_BOOTSTRAP_KEY: USER_KEY, HANDINGER_RETRY_SCHEDULE: '1h', HANDINGER_DELIVERY_TIMEOUT_MS: '500' };
    const api = await start(['serve', '--port', '0', '--allow-private-network', '--no-delivery'], env);
    const service = (await runCli(['keys', 'create', '--service', '--name', 'runner'], { env })).stdout.trim();
    const target = await receiver((request) => {
      if (request.path === '/fail') return { status: 500 };
      if (request.path === '/hang') return { hang: true };
      if (request.path === '/redirect') return { redirect: 'https://example.com/elsewhere' };
      return { status: 200 };
    });
    const gone = await startReceiver();
    await gone.close(); // its port refuses connections now
    const workers = {
      ok: await workerWithWebhook(api, `${target.url}/ok`),
      fail: await workerWithWebhook(api, `${target.url}/fail`),
      hang: await workerWithWebhook(api, `${target.url}/hang`),
      redirect: await workerWithWebhook(api, `${target.url}/redirect`),
      refused: await workerWithWebhook(api, `${gone.url}/refused`),
    };
    const complete = async (workerId: string, taskId: string, status = 'completed') =>
      expect((await call(api.baseUrl, service, 'POST', '/api/task-completions', { taskId, workerId, status })).status).toBe(202);

    const deliverer = await start(['deliver', '--allow-private-network', '--metrics-port', '0'], env, 'delivering');
    const metricsUrl = deliverer.baseUrl;
    expect(metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const before = await scrapeMetrics(metricsUrl);
    expect(before.value('handinger_delivery_attempts_total')).toBe(0);

    await complete(workers.ok, 'task_ok');
    await complete(workers.ok, 'task_ok_error', 'error');
    await complete(workers.fail, 'task_fail');
    await complete(workers.hang, 'task_hang');
    await complete(workers.redirect, 'task_redirect');
    await complete(workers.refused, 'task_refused');
    const expected = { success: 2, http_error: 1, timeout: 1, redirect: 1, connection_error: 1, blocked: 0 };
    const scrape = await waitFor(
      async () => {
        const now = await scrapeMetrics(metricsUrl);
        return Object.entries(expected).every(([result, n]) => now.value('handinger_delivery_attempts_total', { result }) === n) ? now : null;
      },
      { timeoutMs: 20_000, message: 'the attempt counters did not reach one per result' },
    );
    expect(scrape.value('handinger_delivery_attempt_duration_seconds_count')).toBe(6);
    expect(scrape.value('handinger_delivery_attempt_duration_seconds_bucket', { le: '0.25' })).toBeGreaterThanOrEqual(5);
    expect(scrape.value('handinger_notifications_total', { type: 'task.completed' })).toBe(5);
    expect(scrape.value('handinger_notifications_total', { type: 'task.error' })).toBe(1);
    // The process serves its liveness and readiness beside the metrics, and nothing else.
    expect(await (await fetch(`${metricsUrl}/readyz`)).json()).toEqual({ status: 'ready' });
    expect(await (await fetch(`${metricsUrl}/healthz`)).json()).toEqual({ status: 'ok' });
    expect((await fetch(`${metricsUrl}/api/workers`)).status).toBe(404);
    // The API node has sent nothing: its counters are its own (Prometheus sums the processes).
    expect((await scrapeMetrics(api.baseUrl)).value('handinger_delivery_attempts_total')).toBe(0);

    // Without --allow-private-network the guard refuses the receiver's loopback address at connect time.
    await deliverer.stop();
    const guarded = await start(['deliver', '--metrics-port', '0'], env, 'delivering');
    await complete(workers.ok, 'task_blocked');
    await waitFor(async () => (await scrapeMetrics(guarded.baseUrl)).value('handinger_delivery_attempts_total', { result: 'blocked' }) === 1, {
      timeoutMs: 20_000,
      message: 'the blocked attempt was not counted',
    });
    expect((await scrapeMetrics(guarded.baseUrl)).value('handinger_delivery_attempts_total')).toBe(1);
  }, 90_000);

  it('read the due backlog, held notifications and disabled webhooks from the whole database; a test send counts as an attempt', async () => {
    database = await createTestDatabase(backend);
    const env = { ...database.env, HANDINGER_BOOTSTRAP_KEY: USER_KEY };
    // An API node without a delivery loop: what is due stays due, and its gauges still see it (they read the database).
    const api = await start(['serve', '--port', '0', '--allow-private-network', '--no-delivery'], env);
    const service = (await runCli(['keys', 'create', '--service', '--name', 'runner'], { env })).stdout.trim();
    const target = await receiver();
    const active = await workerWithWebhook(api, `${target.url}/active`);
    const paused = await workerWithWebhook(api, `${target.url}/paused`);
    const complete = async (workerId: string, taskId: string) =>
      expect((await call(api.baseUrl, service, 'POST', '/api/task-completions', { taskId, workerId, status: 'completed' })).status).toBe(202);
    const until = (what: string, check: (scrape: Awaited<ReturnType<typeof scrapeMetrics>>) => boolean) =>
      waitFor(async () => {
        const scrape = await scrapeMetrics(api.baseUrl);
        return check(scrape) ? scrape : null;
      }, { timeoutMs: 20_000, message: what });

    for (const taskId of ['due_1', 'due_2', 'due_3']) await complete(active, taskId);
    await until('three attempts due, the oldest for a while', (m) => m.value('handinger_delivery_due') === 3 && m.value('handinger_delivery_oldest_due_age_seconds') > 0.2);

    expect((await call(api.baseUrl, USER_KEY, 'POST', `/api/workers/${paused}/webhook/disable`)).status).toBe(200);
    await complete(paused, 'held_1');
    await complete(paused, 'held_2');
    const disabled = await until('one webhook disabled, two notifications held', (m) => m.value('handinger_webhooks_disabled') === 1 && m.value('handinger_notifications_held') === 2);
    expect(disabled.value('handinger_delivery_due')).toBe(3); // held notifications are not due
    expect(disabled.value('handinger_delivery_in_flight')).toBe(0);

    // A test is sent while disabled (SPEC §8.2), from the API node itself: one attempt, one webhook.test notification.
    const tested = await call(api.baseUrl, USER_KEY, 'POST', `/api/workers/${paused}/webhook/test`, {});
    expect(tested.status).toBe(200);
    const afterTest = await scrapeMetrics(api.baseUrl);
    expect(afterTest.value('handinger_delivery_attempts_total', { result: 'success' })).toBe(1);
    expect(afterTest.value('handinger_notifications_total', { type: 'webhook.test' })).toBe(1);
    expect(afterTest.value('handinger_delivery_attempt_duration_seconds_count')).toBe(1);

    expect((await call(api.baseUrl, USER_KEY, 'POST', `/api/workers/${paused}/webhook/enable`)).status).toBe(200);
    await until('nothing disabled or held, the held notifications due', (m) => m.value('handinger_webhooks_disabled') === 0 && m.value('handinger_notifications_held') === 0 && m.value('handinger_delivery_due') === 5);

    // A delivery process drains the queue; the API node sees the backlog go, though it sent none of it.
    const deliverer = await start(['deliver', '--allow-private-network', '--metrics-port', '0'], env, 'delivering');
    await until('the backlog delivered', (m) => m.value('handinger_delivery_due') === 0 && m.value('handinger_delivery_oldest_due_age_seconds') === 0);
    await waitFor(async () => (await scrapeMetrics(deliverer.baseUrl)).value('handinger_delivery_attempts_total', { result: 'success' }) === 5, { timeoutMs: 20_000 });
    expect((await scrapeMetrics(api.baseUrl)).value('handinger_delivery_attempts_total')).toBe(1);
  }, 90_000);

  it('label nothing with a worker id, task id, URL or secret after traffic to 200 workers through serve; the token is enforced', async () => {
    database = await createTestDatabase(backend);
    const token = 'metrics-token-not-in-any-log-0123456789';
    const env = { ...database.env, HANDINGER_BOOTSTRAP_KEY: USER_KEY, HANDINGER_METRICS_TOKEN: token };
    const api = await start(['serve', '--port', '0', '--allow-private-network'], env);
    const service = (await runCli(['keys', 'create', '--service', '--name', 'runner'], { env })).stdout.trim();
    const target = await receiver();

    expect((await fetch(`${api.baseUrl}/metrics`)).status).toBe(401);
    expect((await fetch(`${api.baseUrl}/metrics`, { headers: { authorization: `Bearer ${USER_KEY}` } })).status).toBe(401);
    expect((await fetch(`${api.baseUrl}/metrics`, { headers: { authorization: `Bearer ${token}x` } })).status).toBe(401);
    expect((await fetch(`${api.baseUrl}/readyz`)).status).toBe(200);

    const WORKERS = 200;
    const ids: string[] = [];
    for (let batch = 0; batch < WORKERS; batch += 20) {
      ids.push(
        ...(await Promise.all(
          Array.from({ length: 20 }, async (_, i) => {
            const id = await workerWithWebhook(api, `${target.url}/hooks/worker-${batch + i}?secret=s3cr3t-${batch + i}`);
            expect((await call(api.baseUrl, service, 'POST', '/api/task-completions', { taskId: `task_label_${batch + i}`, workerId: id, status: 'completed' })).status).toBe(202);
            expect((await call(api.baseUrl, USER_KEY, 'GET', `/api/workers/${id}/webhook/executions?page=1`)).status).toBe(200);
            expect((await call(api.baseUrl, USER_KEY, 'GET', `/trpc/workers.webhooks.retrieve?input=${encodeURIComponent(JSON.stringify({ workerId: id }))}`)).status).toBe(200);
            expect((await call(api.baseUrl, USER_KEY, 'GET', `/api/workers/${id}/no-such-thing`)).status).toBe(404);
            return id;
          }),
        )),
      );
    }
    const scrape = await waitFor(
      async () => {
        const now = await scrapeMetrics(api.baseUrl, token);
        return now.value('handinger_delivery_attempts_total', { result: 'success' }) === WORKERS ? now : null;
      },
      { timeoutMs: 30_000, message: 'not every delivery was counted' },
    );
    expect(scrape.value('handinger_notifications_total', { type: 'task.completed' })).toBe(WORKERS);

    const labelValues = scrape.samples.flatMap((s) => Object.values(s.labels));
    const forbidden = [...ids, 't_org_', 'task_label_', target.url, `:${target.port}`, '/hooks/', 's3cr3t', 'hwk_', token, service];
    for (const value of labelValues) for (const bad of forbidden) expect(value).not.toContain(bad);
    const routes = new Set(scrape.samples.filter((s) => s.name === 'handinger_http_requests_total').map((s) => s.labels.route));
    expect([...routes].sort()).toEqual(
      ['/api/task-completions', '/api/workers', '/api/workers/{workerId}/webhook', '/api/workers/{workerId}/webhook/executions', '/metrics', '/readyz', '/trpc/workers.webhooks.retrieve', 'unmatched'].sort(),
    );
    expect(scrape.value('handinger_http_requests_total', { route: '/api/workers/{workerId}/webhook/executions', status: '200' })).toBe(WORKERS);
    expect(scrape.value('handinger_http_requests_total', { route: 'unmatched', status: '404' })).toBe(WORKERS);
    // Unauthorized scrapes are requests like any other (counted under their route); the token is never logged.
    expect(scrape.value('handinger_http_requests_total', { route: '/metrics', status: '401' })).toBe(3);
    expect(scrape.samples.filter((s) => s.name.startsWith('handinger_')).length).toBeLessThan(250);
    expect(JSON.stringify(api.logs) + api.stderr()).not.toContain(token);
  }, 120_000);
});

describe('/readyz', () => {
  it('is 503 while the database is unreachable, for serve and deliver alike, and 200 again when it is back; /healthz and /metrics keep answering', async () => {
    postgres = await startPostgres({ port: 54412 });
    const env = { HANDINGER_DB_PATH: await postgres.createDatabase('readiness'), HANDINGER_SECRET_KEY: TEST_SECRET_KEY, HANDINGER_BOOTSTRAP_KEY: USER_KEY };
    const api = await start(['serve', '--port', '0', '--allow-private-network'], env);
    const deliverer = await start(['deliver', '--allow-private-network', '--metrics-port', '0'], env, 'delivering');
    const ready = async (baseUrl: string) => (await fetch(`${baseUrl}/readyz`)).status;
    for (const node of [api, deliverer]) expect(await ready(node.baseUrl)).toBe(200);

    await postgres.pause();
    for (const node of [api, deliverer]) {
      const response = await waitFor(async () => {
        const answer = await fetch(`${node.baseUrl}/readyz`);
        return answer.status === 503 ? answer : null;
      }, { timeoutMs: 20_000, message: 'readiness did not notice the database was gone' });
      expect(await response.json()).toEqual({ status: 'not ready', database: 'unreachable', delivery: 'running' });
      expect((await fetch(`${node.baseUrl}/healthz`)).status).toBe(200);
      // The database gauges are given up after a bound: the scrape answers with what was last read.
      const during = await scrapeMetrics(node.baseUrl);
      expect(during.families.get('handinger_delivery_due')).toBe('gauge');
      expect(during.value('handinger_ready')).toBe(0);
    }

    await postgres.resume();
    for (const node of [api, deliverer]) {
      await waitFor(async () => (await ready(node.baseUrl)) === 200, { timeoutMs: 30_000, message: 'readiness did not come back with the database' });
    }
    for (const node of [api, deliverer]) expect((await scrapeMetrics(node.baseUrl)).value('handinger_ready')).toBe(1);
    expect(api.child.exitCode).toBeNull();
    expect(deliverer.child.exitCode).toBeNull();
  }, 120_000);
});
