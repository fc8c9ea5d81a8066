import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { deliveryPayloadSchema, streams, type TaskCompleted } from '@handinger-webhooks/contracts';
import { TEST_BACKENDS } from '@handinger-webhooks/testing';
import {
  closedPort,
  completeTask,
  executions,
  openedWebhook,
  queueSize,
  useTestBed,
  waitForExecutions,
  workerWithWebhook,
  type TestBed,
} from './test-support/fixture.js';

const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe.each(TEST_BACKENDS)('a delivery (%s)', (backend) => {
  let bed: TestBed;
  const { receiver } = useTestBed((created) => (bed = created), backend);

  it('is a signed POST with the token, user agent, JSON body of SPEC §5', async () => {
    const r = await receiver();
    const workerId = await workerWithWebhook(bed.app, `${r.url}/hooks?src=test`);
    const webhook = await openedWebhook(bed.app, workerId);
    const taskId = await completeTask(bed.app, workerId, {
      title: 'Summarize',
      status: 'error',
      output: { text: 'héllo ✓', n: [1, 2] },
      completedAt: '2026-01-02T03:04:05.678Z',
    });
    const before = Date.now();
    bed.deliver();

    const [request] = await r.waitForRequests(1);
    const [execution] = await waitForExecutions(bed.app, workerId, 1);

    expect(request!.method).toBe('POST');
    expect(request!.path).toBe('/hooks?src=test');
    expect(request!.headers['content-type']).toBe('application/json');
    expect(request!.headers['user-agent']).toBe('Handinger-Webhooks/9.9.9-test');
    expect(request!.headers['x-handinger-token']).toBe(webhook.token);
    expect(request!.headers['webhook-id']).toMatch(/^msg_[0-9A-HJKMNP-TV-Z]{26}$/);
    const timestamp = Number(request!.headers['webhook-timestamp']);
    expect(Math.abs(timestamp - Math.floor(before / 1000))).toBeLessThanOrEqual(2);
    // The signing secret is never sent.
    expect(JSON.stringify(request!.headers)).not.toContain(webhook.signingSecret.slice(6));
    expect(request!.rawBody.toString()).not.toContain(webhook.signingSecret.slice(6));

    const verified = new Webhook(webhook.signingSecret).verify(request!.body, request!.headers as Record<string, string>);
    const payload = deliveryPayloadSchema.parse(verified);
    const completion = (await bed.app.log.stream<TaskCompleted>(streams.task(taskId)))[0]!;
    expect(payload).toEqual({
      type: 'task.error',
      timestamp: completion.data.recordedAt,
      data: {
        workerId,
        taskId,
        taskTitle: 'Summarize',
        status: 'error',
        completedAt: '2026-01-02T03:04:05.678Z',
        output: { text: 'héllo ✓', n: [1, 2] },
      },
    });
    // A tampered body does not verify.
    expect(() => new Webhook(webhook.signingSecret).verify(request!.body.replace('Summarize', 'Summarise'), request!.headers as Record<string, string>)).toThrow();

    expect(execution).toMatchObject({
      requestStatus: 'success',
      responseStatus: 200,
      errorMessage: null,
      taskId,
      taskTitle: 'Summarize',
      url: `${r.url}/hooks?src=test`,
      workerId,
    });
    expect(execution!.id).toMatch(/^whe_[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(execution!.createdAt).toMatch(ISO_MS);
    expect(Date.parse(execution!.createdAt)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(execution!.createdAt)).toBeLessThanOrEqual(request!.receivedAt);
    expect(Number.isInteger(execution!.durationMs)).toBe(true);
    expect(await queueSize(bed.app)).toBe(0);
  });

  it('retries 500, 500 then succeeds: three executions, one webhook-id, one body', async () => {
    const r = await receiver();
    r.script({ status: 500, body: 'internal secret stack trace' }, { status: 500 });
    const workerId = await workerWithWebhook(bed.app, r.url);
    const taskId = await completeTask(bed.app, workerId);
    bed.deliver({ retryScheduleMs: [50, 100] });

    const requests = await r.waitForRequests(3);
    const list = await waitForExecutions(bed.app, workerId, 3);

    expect(new Set(requests.map((q) => q.headers['webhook-id'])).size).toBe(1);
    expect(new Set(requests.map((q) => q.body)).size).toBe(1);
    // Each attempt is signed with its own timestamp and verifies.
    const secret = (await openedWebhook(bed.app, workerId)).signingSecret;
    for (const q of requests) expect(() => new Webhook(secret).verify(q.body, q.headers as Record<string, string>)).not.toThrow();
    expect(list.map((e) => [e.requestStatus, e.responseStatus, e.errorMessage])).toEqual([
      ['error', 500, 'HTTP 500'],
      ['error', 500, 'HTTP 500'],
      ['success', 200, null],
    ]);
    expect(new Set(list.map((e) => e.id)).size).toBe(3);
    for (const e of list) expect(e).toMatchObject({ taskId, workerId, url: r.url });
    // The retry waited at least its delay after the previous attempt.
    expect(requests[1]!.receivedAt - requests[0]!.receivedAt).toBeGreaterThanOrEqual(50);
    expect(requests[2]!.receivedAt - requests[1]!.receivedAt).toBeGreaterThanOrEqual(100);
    // The response body never reaches the log.
    expect(JSON.stringify(list)).not.toContain('secret stack');
    expect(await queueSize(bed.app)).toBe(0);
  });

  it('stops at HTTP 410', async () => {
    const r = await receiver(() => ({ status: 410 }));
    const workerId = await workerWithWebhook(bed.app, r.url);
    await completeTask(bed.app, workerId);
    bed.deliver({ retryScheduleMs: [10, 10, 10] });
    const [execution] = await waitForExecutions(bed.app, workerId, 1);
    expect(execution).toMatchObject({ requestStatus: 'error', responseStatus: 410, errorMessage: 'HTTP 410' });
    expect(await queueSize(bed.app)).toBe(0);
    expect(r.requests).toHaveLength(1);
  });

  it('makes N + 1 attempts for N delays, then gives up', async () => {
    const r = await receiver(() => ({ status: 503 }));
    const workerId = await workerWithWebhook(bed.app, r.url);
    await completeTask(bed.app, workerId);
    const service = bed.deliver({ retryScheduleMs: [20, 20, 20] });
    const list = await waitForExecutions(bed.app, workerId, 4);
    expect(list.map((e) => e.errorMessage)).toEqual(['HTTP 503', 'HTTP 503', 'HTTP 503', 'HTTP 503']);
    // Nothing is left to attempt: the schedule is empty and no attempt is running.
    expect(await queueSize(bed.app)).toBe(0);
    expect(service.inFlight()).toBe(0);
    expect(r.requests).toHaveLength(4);
  });

  it('records a timeout with no response status', async () => {
    const r = await receiver(() => ({ hang: true }));
    const workerId = await workerWithWebhook(bed.app, r.url);
    await completeTask(bed.app, workerId);
    bed.deliver({ retryScheduleMs: [], timeoutMs: 300 });
    const [execution] = await waitForExecutions(bed.app, workerId, 1);
    expect(execution).toMatchObject({ requestStatus: 'error', responseStatus: null, errorMessage: 'timeout after 300 ms' });
    expect(execution!.durationMs).toBeGreaterThanOrEqual(290);
    expect(execution!.durationMs).toBeLessThan(2_000);
  });

  it('records a refused connection', async () => {
    const port = await closedPort();
    const workerId = await workerWithWebhook(bed.app, `http://127.0.0.1:${port}/hook`);
    await completeTask(bed.app, workerId);
    bed.deliver({ retryScheduleMs: [] });
    const [execution] = await waitForExecutions(bed.app, workerId, 1);
    expect(execution).toMatchObject({
      requestStatus: 'error',
      responseStatus: null,
      errorMessage: 'connection refused',
      url: `http://127.0.0.1:${port}/hook`,
    });
  });

  it('does not follow a redirect and records it with its status', async () => {
    const target = await receiver();
    const r = await receiver(() => ({ status: 302, redirect: `${target.url}/elsewhere` }));
    const workerId = await workerWithWebhook(bed.app, r.url);
    await completeTask(bed.app, workerId);
    bed.deliver({ retryScheduleMs: [] });
    const [execution] = await waitForExecutions(bed.app, workerId, 1);
    expect(execution).toMatchObject({ requestStatus: 'error', responseStatus: 302, errorMessage: 'redirect not followed (HTTP 302)' });
    expect(target.connections()).toBe(0);
  });

  it('reads at most 64 KiB of a response body and still records the status', async () => {
    const r = await receiver(() => ({ status: 200, body: Buffer.alloc(5 * 1024 * 1024, 'x') }));
    const workerId = await workerWithWebhook(bed.app, r.url);
    await completeTask(bed.app, workerId);
    bed.deliver({ retryScheduleMs: [] });
    const [execution] = await waitForExecutions(bed.app, workerId, 1);
    expect(execution).toMatchObject({ requestStatus: 'success', responseStatus: 200, errorMessage: null });
  });

  it('counts a 2xx whose body never ends as answered, within the deadline', async () => {
    const { createServer } = await import('node:http');
    const server = createServer((_req, res) => {
      res.writeHead(202, { 'content-type': 'text/plain' });
      res.write('partial');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    try {
      const workerId = await workerWithWebhook(bed.app, `http://127.0.0.1:${port}/`);
      await completeTask(bed.app, workerId);
      bed.deliver({ retryScheduleMs: [], timeoutMs: 300 });
      const [execution] = await waitForExecutions(bed.app, workerId, 1);
      expect(execution).toMatchObject({ requestStatus: 'success', responseStatus: 202, errorMessage: null });
      expect(execution!.durationMs).toBeLessThan(2_000);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('records a reset connection', async () => {
    const { createServer } = await import('node:http');
    const server = createServer((req) => req.socket.destroy());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    try {
      const workerId = await workerWithWebhook(bed.app, `http://127.0.0.1:${port}/`);
      await completeTask(bed.app, workerId);
      bed.deliver({ retryScheduleMs: [] });
      const [execution] = await waitForExecutions(bed.app, workerId, 1);
      expect(execution!.responseStatus).toBeNull();
      expect(['connection reset', 'connection closed before a response']).toContain(execution!.errorMessage);
    } finally {
      server.close();
    }
  });

  it('logs attempts without tokens, secrets, URLs with their query or bodies', async () => {
    const lines: string[] = [];
    const capture = (level: string) => (fields: object, message?: string) => void lines.push(JSON.stringify({ level, message, ...fields }));
    const logger = { debug: capture('debug'), info: capture('info'), warn: capture('warn'), error: capture('error') };
    const r = await receiver(() => ({ status: 500, body: 'receiver-body-marker' }));
    const workerId = await workerWithWebhook(bed.app, `${r.url}/hook?key=url-secret-marker`);
    const webhook = await openedWebhook(bed.app, workerId);
    await completeTask(bed.app, workerId, { output: { note: 'output-marker' } });
    bed.deliver({ retryScheduleMs: [], logger });
    await waitForExecutions(bed.app, workerId, 1);
    const log = lines.join('\n');
    expect(log).toContain('delivery attempt failed');
    for (const secret of [webhook.token, webhook.signingSecret, 'url-secret-marker', 'receiver-body-marker', 'output-marker']) {
      expect(log).not.toContain(secret);
    }
  });

  it('delivers every completion of several workers exactly once when all succeed', async () => {
    const r = await receiver();
    const workers = await Promise.all([1, 2, 3].map(() => workerWithWebhook(bed.app, r.url)));
    const tasks = await Promise.all(workers.flatMap((w) => [1, 2, 3, 4].map(() => completeTask(bed.app, w))));
    bed.deliver();
    const requests = await r.waitForRequests(12);
    for (const w of workers) await waitForExecutions(bed.app, w, 4);
    const delivered = requests.map((q) => (JSON.parse(q.body) as { data: { taskId: string } }).data.taskId).sort();
    expect(delivered).toEqual([...tasks].sort());
    expect((await Promise.all(workers.map((w) => executions(bed.app, w)))).flat()).toHaveLength(12);
    expect(r.requests).toHaveLength(12);
  });
});
