import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import { createApiHandler } from '@handinger-webhooks/api';
import { createHandingerClient } from '@handinger-webhooks/client';
import { openApplication, type Application } from '@handinger-webhooks/commands';
import { streams, type DeliveryEvent, type Logger } from '@handinger-webhooks/contracts';
import { WebhookTester, startDelivery, type DeliveryService } from '@handinger-webhooks/delivery';
import { TEST_BACKENDS, createTestDatabase, startReceiver, waitFor, type ReceivedRequest, type Receiver, type TestBackend, type TestDatabase } from '@handinger-webhooks/testing';

/**
 * SPEC §8 end to end, on both backends: a real API server on 127.0.0.1 with
 * its delivery loop and test sender, real receivers (some verifying the
 * Standard Webhooks signature with the `standardwebhooks` package), every
 * operation through REST, and the typed tRPC client for the same calls.
 */

interface Service {
  app: Application;
  baseUrl: string;
  userKey: string;
  otherUserKey: string;
  serviceKey: string;
  warnings: { fields: object; message: string | undefined }[];
  call(method: string, path: string, body?: unknown, key?: string): Promise<{ status: number; body: any }>;
  worker(url: string | null): Promise<{ id: string; token: string | null; signingSecret: string | null }>;
  complete(workerId: string, taskId: string, title?: string): Promise<void>;
}

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function startService(backend: TestBackend, options: { retryScheduleMs?: number[]; disableAfterMs?: number } = {}): Promise<Service> {
  const database: TestDatabase = await createTestDatabase(backend);
  closers.push(() => database.drop());
  const app = await openApplication({ db: database.db, secretKey: database.secretKey });
  closers.push(() => app.close());
  const warnings: Service['warnings'] = [];
  const logger: Logger = { debug() {}, info() {}, error() {}, warn: (fields, message) => warnings.push({ fields, message }) };
  const deliveryOptions = {
    version: '9.9.9-test',
    allowPrivateNetwork: true,
    retryScheduleMs: options.retryScheduleMs ?? [50],
    timeoutMs: 2_000,
    pollIntervalMs: 100,
    disableAfterMs: options.disableAfterMs ?? 0,
    logger,
  };
  const webhookTester = new WebhookTester(app, deliveryOptions);
  const handler = createApiHandler({ app, allowPrivateNetwork: true, version: '9.9.9-test', webhookTester });
  const server: Server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(async () => {
    await new Promise((resolve) => server.close(resolve));
    server.closeAllConnections();
    await webhookTester.close();
  });
  const delivery: DeliveryService = startDelivery(app, deliveryOptions);
  closers.push(() => delivery.stop());
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const key = async (userId: string) => (await app.commands.issueApiKey({ role: 'user', organizationId: 'org_ops', userId, name: null })).key;
  const [userKey, otherUserKey] = [await key('u1'), await key('u2')];
  const serviceKey = (await app.commands.issueApiKey({ role: 'service', organizationId: null, userId: null, name: 'runner' })).key;
  const call: Service['call'] = async (method, path, body, apiKey = userKey) => {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${apiKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: text === '' ? undefined : JSON.parse(text) };
  };
  return {
    app,
    baseUrl,
    userKey,
    otherUserKey,
    serviceKey,
    warnings,
    call,
    async worker(url) {
      const { body: worker } = await call('POST', '/api/workers', { title: 'ops' });
      if (url === null) return { id: worker.id, token: null, signingSecret: null };
      const { body: webhook } = await call('PUT', `/api/workers/${worker.id}/webhook`, { url });
      return { id: worker.id, token: webhook.token, signingSecret: webhook.signingSecret };
    },
    async complete(workerId, taskId, title = `task ${taskId}`) {
      const { status } = await call('POST', '/api/task-completions', { taskId, workerId, title, status: 'completed', output: { taskId } }, serviceKey);
      expect(status).toBe(202);
    },
  };
}

/** Whether `standardwebhooks` accepts the request under `secret`. */
function verifies(secret: string, request: ReceivedRequest): boolean {
  try {
    new StandardWebhook(secret).verify(request.body, {
      'webhook-id': String(request.headers['webhook-id']),
      'webhook-timestamp': String(request.headers['webhook-timestamp']),
      'webhook-signature': String(request.headers['webhook-signature']),
    });
    return true;
  } catch {
    return false;
  }
}

const taskOf = (request: ReceivedRequest): string => JSON.parse(request.body).data.taskId;

async function receiver(handler?: Parameters<typeof startReceiver>[0]): Promise<Receiver> {
  const started = await startReceiver(handler);
  closers.push(() => started.close());
  return started;
}

async function deliveryEvents(app: Application, deliveryId: string): Promise<DeliveryEvent[]> {
  return (await app.log.readStream<DeliveryEvent>(app.database.sql, streams.delivery(deliveryId))).map((event) => ({ type: event.type, data: event.data }) as DeliveryEvent);
}

describe.each(TEST_BACKENDS)('operating deliveries (SPEC §8) on %s', (backend) => {
  describe('§8.1 rotation with an overlap window', () => {
    it('signs with both secrets during the window, only the new one after it, and keeps one previous secret', async () => {
      const s = await startService(backend);
      const r = await receiver();
      const w = await s.worker(`${r.url}/hook`);
      const first = w.signingSecret!;

      const rotated = await s.call('POST', `/api/workers/${w.id}/webhook/regenerate-token`, { gracePeriodSeconds: 3600 });
      expect(rotated.status).toBe(200);
      expect(rotated.body.token).not.toBe(w.token);
      const expiresIn = Date.parse(rotated.body.previousSigningSecretExpiresAt) - Date.now();
      expect(expiresIn).toBeGreaterThan(3_590_000);
      expect(expiresIn).toBeLessThanOrEqual(3_600_000);
      await s.complete(w.id, 'rot_1');
      const [during] = await r.waitForRequests(1);
      expect(String(during!.headers['webhook-signature']).split(' ')).toHaveLength(2);
      expect(verifies(first, during!)).toBe(true);
      expect(verifies(rotated.body.signingSecret, during!)).toBe(true);
      expect(during!.headers['x-handinger-token']).toBe(rotated.body.token);

      // A rotation inside the window ends the older one at once: the first secret no longer verifies.
      const again = (await s.call('POST', `/api/workers/${w.id}/webhook/regenerate-token`, { gracePeriodSeconds: 3600 })).body;
      await s.complete(w.id, 'rot_2');
      const [, second] = await r.waitForRequests(2);
      expect(verifies(first, second!)).toBe(false);
      expect(verifies(rotated.body.signingSecret, second!)).toBe(true);
      expect(verifies(again.signingSecret, second!)).toBe(true);

      // Without a window (no body at all is the same as {}), only the new secret signs.
      const plain = await fetch(`${s.baseUrl}/api/workers/${w.id}/webhook/regenerate-token`, { method: 'POST', headers: { authorization: `Bearer ${s.userKey}` } });
      const last = (await plain.json()) as { previousSigningSecretExpiresAt: string | null; signingSecret: string };
      expect(plain.status).toBe(200);
      expect(last.previousSigningSecretExpiresAt).toBeNull();
      await s.complete(w.id, 'rot_3');
      const [, , third] = await r.waitForRequests(3);
      expect(String(third!.headers['webhook-signature']).split(' ')).toHaveLength(1);
      expect(verifies(again.signingSecret, third!)).toBe(false);
      expect(verifies(last.signingSecret, third!)).toBe(true);
      // Deleting the webhook ends a window: set again, it signs once, with its own new secret.
      await s.call('POST', `/api/workers/${w.id}/webhook/regenerate-token`, { gracePeriodSeconds: 3600 });
      await s.call('DELETE', `/api/workers/${w.id}/webhook`);
      const fresh = (await s.call('PUT', `/api/workers/${w.id}/webhook`, { url: `${r.url}/hook` })).body;
      expect(fresh.previousSigningSecretExpiresAt).toBeNull();
      await s.complete(w.id, 'rot_4');
      const [, , , fourth] = await r.waitForRequests(4);
      expect(String(fourth!.headers['webhook-signature']).split(' ')).toHaveLength(1);
      expect(verifies(fresh.signingSecret, fourth!)).toBe(true);
    });

    it('ends the window at its time', async () => {
      const s = await startService(backend);
      const r = await receiver();
      const w = await s.worker(`${r.url}/hook`);
      const rotated = (await s.call('POST', `/api/workers/${w.id}/webhook/regenerate-token`, { gracePeriodSeconds: 1 })).body;
      const end = Date.parse(rotated.previousSigningSecretExpiresAt);
      await waitFor(() => Date.now() > end + 5, { timeoutMs: 3_000 });
      expect((await s.call('GET', `/api/workers/${w.id}/webhook`)).body.previousSigningSecretExpiresAt).toBeNull();
      await s.complete(w.id, 'after_window');
      const [request] = await r.waitForRequests(1);
      expect(verifies(w.signingSecret!, request!)).toBe(false);
      expect(verifies(rotated.signingSecret, request!)).toBe(true);
    });

    it('rejects a grace period out of range, changing nothing', async () => {
      const s = await startService(backend);
      const w = await s.worker('http://127.0.0.1:9/hook');
      for (const gracePeriodSeconds of [-1, 604_801, 1.5, '60']) {
        const response = await s.call('POST', `/api/workers/${w.id}/webhook/regenerate-token`, { gracePeriodSeconds });
        expect(response.status).toBe(400);
        expect(response.body.message).toMatch(/gracePeriodSeconds/);
      }
      expect((await s.call('GET', `/api/workers/${w.id}/webhook`)).body.token).toBe(w.token);
    });
  });

  describe('§8.2 test event and the signature check', () => {
    it('tells a receiver that verifies signatures from one that accepts anything and one that fails', async () => {
      const s = await startService(backend);
      let secret = '';
      const strict = await receiver((request) => ({ status: verifies(secret, request) ? 204 : 401 }));
      const lax = await receiver(() => ({ status: 200 }));
      const broken = await receiver(() => ({ status: 500 }));
      const strictWorker = await s.worker(`${strict.url}/hook`);
      secret = strictWorker.signingSecret!;

      const verified = await s.call('POST', `/api/workers/${strictWorker.id}/webhook/test`, { checkSignatureVerification: true });
      expect(verified.status).toBe(200);
      expect(verified.body.signatureVerification).toBe('verified');
      expect(verified.body.execution).toMatchObject({ requestStatus: 'success', responseStatus: 204, taskId: null, taskTitle: null, workerId: strictWorker.id });
      expect((await s.call('GET', `/api/workers/${strictWorker.id}/webhook/executions/${verified.body.execution.id}`)).body).toMatchObject({ trigger: 'test', attempt: 1 });
      const [genuine, probe] = strict.requests;
      expect(JSON.parse(genuine!.body)).toEqual({ type: 'webhook.test', timestamp: verified.body.execution.createdAt, data: { workerId: strictWorker.id } });
      expect(probe!.body).toBe(genuine!.body);
      expect(probe!.headers['webhook-id']).not.toBe(genuine!.headers['webhook-id']);
      expect(probe!.headers['x-handinger-token']).toBe(strictWorker.token);
      // The probe is not an execution.
      expect((await s.call('GET', `/api/workers/${strictWorker.id}/webhook/executions`)).body.totalCount).toBe(1);

      const laxWorker = await s.worker(`${lax.url}/hook`);
      expect((await s.call('POST', `/api/workers/${laxWorker.id}/webhook/test`, { checkSignatureVerification: true })).body.signatureVerification).toBe('not-verified');
      expect(lax.requests).toHaveLength(2);
      expect((await s.call('POST', `/api/workers/${laxWorker.id}/webhook/test`, {})).body.signatureVerification).toBe('not-checked');
      expect(lax.requests).toHaveLength(3);

      const brokenWorker = await s.worker(`${broken.url}/hook`);
      const failed = (await s.call('POST', `/api/workers/${brokenWorker.id}/webhook/test`, { checkSignatureVerification: true })).body;
      expect(failed.signatureVerification).toBe('not-checked');
      expect(failed.execution).toMatchObject({ requestStatus: 'error', responseStatus: 500, errorMessage: 'HTTP 500' });
      expect(broken.requests).toHaveLength(1); // no probe after a failed genuine request
      // Never retried.
      expect((await s.call('GET', `/api/workers/${brokenWorker.id}/webhook/executions`)).body.totalCount).toBe(1);
    });

    it('is 409 without a webhook, is allowed while disabled, and is the typed client’s sendTest too', async () => {
      const s = await startService(backend);
      const r = await receiver();
      const none = await s.worker(null);
      expect((await s.call('POST', `/api/workers/${none.id}/webhook/test`)).status).toBe(409);
      const w = await s.worker(`${r.url}/hook`);
      expect((await s.call('POST', `/api/workers/${w.id}/webhook/disable`)).body.status).toBe('disabled');
      const client = createHandingerClient({ baseUrl: s.baseUrl, apiKey: s.userKey });
      const result = await client.workers.webhooks.sendTest.mutate({ workerId: w.id });
      expect(result.execution.requestStatus).toBe('success');
      expect(r.requests).toHaveLength(1);
      // Another member of the organization is not the creator.
      expect((await s.call('POST', `/api/workers/${w.id}/webhook/test`, {}, s.otherUserKey)).status).toBe(403);
    });
  });

  describe('§8.3 redeliver one execution', () => {
    it('sends the same webhook-id and body once more, to the current URL, as a new execution', async () => {
      const s = await startService(backend);
      const a = await receiver();
      const b = await receiver();
      const w = await s.worker(`${a.url}/hook`);
      await s.complete(w.id, 'redeliver_1');
      const [original] = await a.waitForRequests(1);
      const executionId = (await waitFor(async () => (await s.call('GET', `/api/workers/${w.id}/webhook/executions`)).body.logs[0]?.id)) as string;
      await s.call('PUT', `/api/workers/${w.id}/webhook`, { url: `${b.url}/moved` });

      const accepted = await s.call('POST', `/api/workers/${w.id}/webhook/executions/${executionId}/redeliver`);
      expect(accepted).toEqual({ status: 202, body: { accepted: true } });
      const [again] = await b.waitForRequests(1);
      expect(again!.headers['webhook-id']).toBe(original!.headers['webhook-id']);
      expect(again!.body).toBe(original!.body);
      const logs = (await waitFor(async () => {
        const page = (await s.call('GET', `/api/workers/${w.id}/webhook/executions`)).body;
        return page.totalCount === 2 && page.logs;
      })) as { id: string; url: string }[];
      expect(logs[0]!.url).toBe(`${b.url}/moved`);
      const detail = (await s.call('GET', `/api/workers/${w.id}/webhook/executions/${logs[0]!.id}`)).body;
      expect(detail).toMatchObject({ webhookId: original!.headers['webhook-id'], attempt: 2, trigger: 'redeliver' });
      // One attempt, never retried: nothing more arrives after a failure either.
      expect(b.requests).toHaveLength(1);
    });

    it('is 404 for another worker’s execution and 409 without a webhook', async () => {
      const s = await startService(backend);
      const r = await receiver();
      const w = await s.worker(`${r.url}/hook`);
      await s.complete(w.id, 'redeliver_2');
      const executionId = (await waitFor(async () => (await s.call('GET', `/api/workers/${w.id}/webhook/executions`)).body.logs[0]?.id)) as string;
      const other = await s.worker(`${r.url}/other`);
      expect((await s.call('POST', `/api/workers/${other.id}/webhook/executions/${executionId}/redeliver`)).status).toBe(404);
      expect((await s.call('POST', `/api/workers/${w.id}/webhook/executions/whe_01HZY2ZJQ8G7K42W2D7WF6V4GM/redeliver`)).status).toBe(404);
      await s.call('DELETE', `/api/workers/${w.id}/webhook`);
      expect((await s.call('POST', `/api/workers/${w.id}/webhook/executions/${executionId}/redeliver`)).status).toBe(409);
    });
  });

  describe('§8.4 recover failed notifications', () => {
    it('counts with a dry run, then resends each failed notification once with its webhook-id and body', async () => {
      const s = await startService(backend, { retryScheduleMs: [20] });
      let up = false;
      // Down: 500, but 410 for one task (its retries stop at once).
      const r = await receiver((request) => ({ status: up ? 200 : taskOf(request) === 'rec_gone' ? 410 : 500 }));
      const w = await s.worker(`${r.url}/hook`);
      const since = new Date(Date.now() - 1_000).toISOString();
      const executions = async () => (await s.call('GET', `/api/workers/${w.id}/webhook/executions`)).body;
      for (const task of ['rec_a', 'rec_b', 'rec_c', 'rec_gone']) await s.complete(w.id, task);
      // Two attempts each for the 500s (out of retries), one for the 410: seven executions.
      await waitFor(async () => (await executions()).totalCount === 7);
      // rec_c redelivered while still down: failed again, one execution more.
      const ofC = (await executions()).logs.find((l: { taskId: string }) => l.taskId === 'rec_c').id;
      expect((await s.call('POST', `/api/workers/${w.id}/webhook/executions/${ofC}/redeliver`)).status).toBe(202);
      await waitFor(async () => (await executions()).totalCount === 8);
      up = true;
      await s.complete(w.id, 'rec_ok'); // delivered: never recovered
      await r.waitForRequests(9);

      const selected = ['rec_a', 'rec_b', 'rec_c', 'rec_gone'];
      const dry = await s.call('POST', `/api/workers/${w.id}/webhook/recover`, { since, dryRun: true });
      expect(dry.status).toBe(200);
      expect(dry.body).toMatchObject({ id: null, status: 'dry-run', total: selected.length, sent: 0, createdAt: null, completedAt: null });
      expect(r.requests).toHaveLength(9);

      const started = await s.call('POST', `/api/workers/${w.id}/webhook/recover`, { since });
      expect(started.status).toBe(202);
      expect(started.body).toMatchObject({ status: 'running', total: selected.length, since });
      expect(started.body.id).toMatch(/^rec_[0-9A-HJKMNP-TV-Z]{26}$/);
      const done = await waitFor(async () => {
        const progress = (await s.call('GET', `/api/workers/${w.id}/webhook/recoveries/${started.body.id}`)).body;
        return progress.status === 'completed' && progress;
      });
      expect(done).toMatchObject({ total: selected.length, sent: selected.length });
      expect(Date.parse(done.completedAt)).toBeGreaterThanOrEqual(Date.parse(done.createdAt));
      const resent = r.requests.slice(9);
      expect(resent.map(taskOf).sort()).toEqual(selected);
      for (const request of resent) {
        const first = r.requests.find((earlier) => taskOf(earlier) === taskOf(request))!;
        expect(request.headers['webhook-id']).toBe(first.headers['webhook-id']);
        expect(request.body).toBe(first.body);
      }
      // Each resend is one attempt with trigger `recover`.
      const page = (await waitFor(async () => {
        const p = await executions();
        return p.totalCount === 9 + selected.length && p;
      })) as { logs: { id: string; taskId: string }[] };
      const recovered = page.logs.find((l) => l.taskId === 'rec_gone')!;
      expect((await s.call('GET', `/api/workers/${w.id}/webhook/executions/${recovered.id}`)).body).toMatchObject({ trigger: 'recover', attempt: 2 });
      // Recovered: a second dry run finds nothing left.
      expect((await s.call('POST', `/api/workers/${w.id}/webhook/recover`, { since, dryRun: true })).body.total).toBe(0);
    });

    it('rejects a bad range, a disabled webhook and another worker’s recovery', async () => {
      const s = await startService(backend);
      const w = await s.worker('http://127.0.0.1:9/hook');
      const now = Date.now();
      const bad = [
        { since: 'yesterday' },
        { since: new Date(now).toISOString(), until: new Date(now - 1_000).toISOString() },
        { since: new Date(now - 1_000).toISOString(), until: new Date(now + 60_000).toISOString() },
        {},
      ];
      for (const body of bad) expect((await s.call('POST', `/api/workers/${w.id}/webhook/recover`, body)).status).toBe(400);
      const started = await s.call('POST', `/api/workers/${w.id}/webhook/recover`, { since: new Date(now - 1_000).toISOString() });
      expect(started.body).toMatchObject({ status: 'completed', total: 0, sent: 0 });
      const other = await s.worker('http://127.0.0.1:9/other');
      expect((await s.call('GET', `/api/workers/${other.id}/webhook/recoveries/${started.body.id}`)).status).toBe(404);
      await s.call('POST', `/api/workers/${w.id}/webhook/disable`);
      expect((await s.call('POST', `/api/workers/${w.id}/webhook/recover`, { since: new Date(now - 1_000).toISOString() })).status).toBe(409);
      const none = await s.worker(null);
      expect((await s.call('POST', `/api/workers/${none.id}/webhook/recover`, { since: new Date(now - 1_000).toISOString() })).status).toBe(409);
    });
  });

  describe('§8.5 disabled webhooks hold notifications', () => {
    it('holds completions and pending retries while disabled, and sends them oldest first on enable', async () => {
      const s = await startService(backend, { retryScheduleMs: [300] });
      let fail = true;
      const r = await receiver(() => ({ status: fail ? 500 : 200 }));
      const w = await s.worker(`${r.url}/hook`);
      await s.complete(w.id, 'held_0'); // fails once; its retry is pending when the webhook is disabled
      await r.waitForRequests(1);
      const disabled = await s.call('POST', `/api/workers/${w.id}/webhook/disable`);
      expect(disabled.body).toMatchObject({ status: 'disabled', disabledReason: 'manual' });
      expect(Date.parse(disabled.body.disabledAt)).toBeLessThanOrEqual(Date.now());
      fail = false;
      for (const task of ['held_1', 'held_2', 'held_3']) await s.complete(w.id, task);
      const webhook = (await s.call('GET', `/api/workers/${w.id}/webhook`)).body;
      expect(webhook.heldNotifications).toBe(4);
      // A second disable keeps the first time; a new URL keeps the status.
      expect((await s.call('POST', `/api/workers/${w.id}/webhook/disable`)).body.disabledAt).toBe(disabled.body.disabledAt);
      expect((await s.call('PUT', `/api/workers/${w.id}/webhook`, { url: `${r.url}/new` })).body).toMatchObject({ status: 'disabled', heldNotifications: 4 });
      // Nothing goes out while disabled (the retry was due 300 ms after the failure): look after a test send has come and gone.
      await s.call('POST', `/api/workers/${w.id}/webhook/test`);
      expect(r.requests.map((q) => JSON.parse(q.body).type)).toEqual(['task.completed', 'webhook.test']);

      const enabled = await s.call('POST', `/api/workers/${w.id}/webhook/enable`);
      expect(enabled.body).toMatchObject({ status: 'active', disabledReason: null, disabledAt: null, heldNotifications: 0 });
      const sent = (await r.waitForRequests(6)).slice(2);
      expect(sent.map(taskOf)).toEqual(['held_0', 'held_1', 'held_2', 'held_3']);
      expect(sent.every((q) => q.path === '/new')).toBe(true);
      const page = (await waitFor(async () => {
        const p = (await s.call('GET', `/api/workers/${w.id}/webhook/executions`)).body;
        return p.totalCount === 6 && p;
      })) as { logs: { id: string; taskId: string | null }[] };
      const detail = (await s.call('GET', `/api/workers/${w.id}/webhook/executions/${page.logs.find((l) => l.taskId === 'held_1')!.id}`)).body;
      expect(detail.trigger).toBe('enable');
      // A second enable sends nothing.
      expect((await s.call('POST', `/api/workers/${w.id}/webhook/enable`)).status).toBe(200);
      await s.call('POST', `/api/workers/${w.id}/webhook/test`);
      expect(r.requests).toHaveLength(7);
    });

    it('drops the held notifications with the webhook, and is 409 without one', async () => {
      const s = await startService(backend);
      const r = await receiver();
      const w = await s.worker(`${r.url}/hook`);
      await s.call('POST', `/api/workers/${w.id}/webhook/disable`);
      await s.complete(w.id, 'dropped_1');
      expect((await s.call('GET', `/api/workers/${w.id}/webhook`)).body.heldNotifications).toBe(1);
      await s.call('DELETE', `/api/workers/${w.id}/webhook`);
      expect((await s.call('POST', `/api/workers/${w.id}/webhook/enable`)).status).toBe(409);
      expect((await s.call('POST', `/api/workers/${w.id}/webhook/disable`)).status).toBe(409);
      const again = (await s.call('PUT', `/api/workers/${w.id}/webhook`, { url: `${r.url}/again` })).body;
      expect(again).toMatchObject({ status: 'active', heldNotifications: 0 });
      // The held delivery was dropped, not sent to the new webhook.
      await waitFor(async () => (await s.app.claims.size(s.app.database.sql)) === 0);
      await s.call('POST', `/api/workers/${w.id}/webhook/test`);
      expect(r.requests.map((q) => JSON.parse(q.body).type)).toEqual(['webhook.test']);
    });

    it('disables a webhook that keeps failing, with a warning naming the worker', async () => {
      const s = await startService(backend, { retryScheduleMs: [20], disableAfterMs: 1 });
      const r = await receiver(() => ({ status: 500 }));
      const w = await s.worker(`${r.url}/hook`);
      await s.complete(w.id, 'failing_1');
      const webhook = await waitFor(async () => {
        const current = (await s.call('GET', `/api/workers/${w.id}/webhook`)).body;
        return current.status === 'disabled' && current;
      });
      expect(webhook).toMatchObject({ disabledReason: 'failing' });
      const warning = s.warnings.find((line) => /disabled/.test(line.message ?? ''));
      expect(warning?.fields).toMatchObject({ workerId: w.id });
      expect(JSON.stringify(s.warnings)).not.toContain(w.token!);
      await s.complete(w.id, 'failing_2');
      expect((await s.call('GET', `/api/workers/${w.id}/webhook`)).body.heldNotifications).toBe(1);
    });
  });

  describe('§8.6 retries that listen to the receiver', () => {
    const nextDelay = async (s: Service, workerId: string): Promise<number> => {
      const deliveryId = (await waitFor(async () => (await s.call('GET', `/api/workers/${workerId}/webhook/executions`)).body.logs[0]?.id)) as string;
      const row = await s.app.readModels.execution(workerId, deliveryId);
      const attempted = (await deliveryEvents(s.app, row!.delivery_id)).find((e) => e.type === 'DeliveryAttempted');
      if (attempted?.type !== 'DeliveryAttempted') throw new Error('no attempt');
      return Date.parse(attempted.data.nextAttemptAt!) - Date.parse(attempted.data.startedAt) - attempted.data.durationMs;
    };

    it('waits as long as Retry-After asks (seconds or an HTTP date), within the schedule’s longest delay', async () => {
      const s = await startService(backend, { retryScheduleMs: [100, 60_000] });
      const seconds = await receiver(() => ({ status: 503, headers: { 'retry-after': '30' } }));
      const date = await receiver(() => ({ status: 429, headers: { 'retry-after': new Date(Date.now() + 20_000).toUTCString() } }));
      const tooLong = await receiver(() => ({ status: 503, headers: { 'retry-after': '86400' } }));
      const ignored = await receiver(() => ({ status: 500, headers: { 'retry-after': '30' } }));
      const delays: Record<string, number> = {};
      for (const [name, r] of Object.entries({ seconds, date, tooLong, ignored })) {
        const w = await s.worker(`${r.url}/hook`);
        await s.complete(w.id, `retry_after_${name}`);
        delays[name] = await nextDelay(s, w.id);
      }
      expect(delays.seconds).toBeGreaterThanOrEqual(29_900);
      expect(delays.seconds).toBeLessThanOrEqual(31_000);
      expect(delays.date).toBeGreaterThanOrEqual(17_000); // an HTTP date has whole seconds
      expect(delays.date).toBeLessThanOrEqual(21_000);
      // Capped at the longest delay (60 s); jitter would have made it up to 66 s.
      expect(delays.tooLong).toBeGreaterThanOrEqual(59_000);
      expect(delays.tooLong).toBeLessThanOrEqual(61_000);
      // A 500's Retry-After is not listened to: the schedule's 100 ms, plus at most 10 % jitter.
      expect(delays.ignored).toBeGreaterThanOrEqual(99); // jitter never shortens (1 ms for the rounding of times)
      expect(delays.ignored).toBeLessThanOrEqual(1_000);
    });
  });

  describe('§8.7 one execution in detail', () => {
    it('shows the request that was sent with the secret headers redacted, and is 404 for another worker', async () => {
      const s = await startService(backend);
      const r = await receiver();
      const w = await s.worker(`${r.url}/hook`);
      await s.complete(w.id, 'detail_1', '<img src=x onerror=alert(1)>');
      const [sent] = await r.waitForRequests(1);
      const executionId = (await waitFor(async () => (await s.call('GET', `/api/workers/${w.id}/webhook/executions`)).body.logs[0]?.id)) as string;
      const detail = (await s.call('GET', `/api/workers/${w.id}/webhook/executions/${executionId}`)).body;
      expect(detail).toMatchObject({ id: executionId, workerId: w.id, taskId: 'detail_1', webhookId: sent!.headers['webhook-id'], attempt: 1, trigger: 'delivery' });
      expect(detail.request.body).toBe(sent!.body);
      expect(detail.request.headers).toEqual({
        'content-type': 'application/json',
        'user-agent': sent!.headers['user-agent'],
        'x-handinger-token': '[redacted]',
        'webhook-id': sent!.headers['webhook-id'],
        'webhook-timestamp': sent!.headers['webhook-timestamp'],
        'webhook-signature': '[redacted]',
      });
      expect(JSON.stringify(detail)).not.toContain(w.token!);
      const client = createHandingerClient({ baseUrl: s.baseUrl, apiKey: s.userKey });
      expect(await client.workers.webhooks.getExecution.query({ workerId: w.id, executionId })).toEqual(detail);
      const other = await s.worker(null);
      expect((await s.call('GET', `/api/workers/${other.id}/webhook/executions/${executionId}`)).status).toBe(404);
      expect((await s.call('GET', `/api/workers/${w.id}/webhook/executions/${executionId}`, undefined, s.otherUserKey)).status).toBe(403);
    });
  });
});
