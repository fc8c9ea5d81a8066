import { PortalSessionCommands } from '@handinger-webhooks/commands';
import { createIdGenerator } from '@handinger-webhooks/contracts';
import { TEST_BACKENDS } from '@handinger-webhooks/testing';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestApi, trpcOutcome, type TestApi } from '../test-support/api-server.js';

/** SPEC §9.1: portal links, on both surfaces and both backends. */

const ORG = 'org_portal';

/** The credential and worker id of a portal link (they travel in its fragment). */
function linkParts(url: string): { workerId: string; key: string } {
  const fragment = new URLSearchParams(new URL(url).hash.slice(1));
  return { workerId: fragment.get('worker')!, key: fragment.get('key')! };
}

describe.each(TEST_BACKENDS)('portal links on %s', (backend) => {
  let api: TestApi;
  let creator: string;
  let colleague: string;

  beforeAll(async () => {
    api = await startTestApi({ backend, allowPrivateNetwork: true });
    creator = await api.userKey(ORG, 'user_alice');
    colleague = await api.userKey(ORG, 'user_bob');
  });
  afterAll(() => api?.close());

  async function workerWithWebhook(): Promise<string> {
    const worker = await api.request('POST', '/api/workers', { key: creator, json: { title: 'portal' } });
    await api.request('PUT', `/api/workers/${worker.body.id}/webhook`, { key: creator, json: { url: 'https://example.com/hook' } });
    return worker.body.id;
  }

  async function portalLink(workerId: string, body?: unknown): Promise<{ workerId: string; key: string; expiresAt: string; url: string }> {
    const response = await api.request('POST', `/api/workers/${workerId}/webhook/portal-sessions`, { key: creator, ...(body === undefined ? {} : { json: body }) });
    expect(response.status).toBe(201);
    return { ...linkParts(response.body.url), expiresAt: response.body.expiresAt, url: response.body.url };
  }

  test('a link is the portal view with the worker and the credential in its fragment, expiring after 900 s by default', async () => {
    const workerId = await workerWithWebhook();
    const before = Date.now();
    const link = await portalLink(workerId);
    const url = new URL(link.url);
    expect(`${url.origin}${url.pathname}${url.search}`).toBe(`${api.baseUrl}/console/portal`);
    expect(link.workerId).toBe(workerId);
    expect(link.key).toMatch(/^hwp_[A-Za-z0-9_-]{43}$/);
    const lifetime = Date.parse(link.expiresAt) - before;
    expect(lifetime).toBeGreaterThan(899_000);
    expect(lifetime).toBeLessThan(901_000);
  });

  test('the credential is stored only as its hash: no event and no read model holds it', async () => {
    const workerId = await workerWithWebhook();
    const { key } = await portalLink(workerId);
    const events = await api.app.log.readByPosition(api.app.database.sql, 1, 100_000);
    expect(JSON.stringify(events)).not.toContain(key);
    expect(JSON.stringify(events)).not.toContain(key.slice(4));
    expect(events.filter((e) => e.type === 'PortalSessionCreated').length).toBeGreaterThan(0);
    const rows = await api.app.database.sql.all('SELECT * FROM portal_sessions');
    expect(JSON.stringify(rows)).not.toContain(key.slice(4));
  });

  test('read-only (the default): the webhook without its secrets and the log; every change is 403', async () => {
    const workerId = await workerWithWebhook();
    const { key } = await portalLink(workerId);

    const webhook = await api.request('GET', `/api/workers/${workerId}/webhook`, { key });
    expect(webhook.status).toBe(200);
    expect(webhook.body).toMatchObject({ url: 'https://example.com/hook', token: null, signingSecret: null });
    expect((await api.request('GET', `/api/workers/${workerId}/webhook/executions`, { key })).status).toBe(200);
    expect(await trpcOutcome(() => api.trpc(key).workers.webhooks.retrieve.query({ workerId }))).toMatchObject({ ok: { token: null, signingSecret: null } });

    for (const [method, path, json] of [
      ['PUT', `/api/workers/${workerId}/webhook`, { url: 'https://example.com/other' }],
      ['DELETE', `/api/workers/${workerId}/webhook`, undefined],
      ['POST', `/api/workers/${workerId}/webhook/regenerate-token`, undefined],
      ['POST', `/api/workers/${workerId}/webhook/portal-sessions`, undefined],
      ['DELETE', `/api/workers/${workerId}`, undefined],
      ['GET', '/api/workers', undefined],
      ['POST', '/api/workers', { title: 'x' }],
    ] as const) {
      const before = await api.app.log.headPosition();
      const response = await api.request(method, path, { key, ...(json ? { json } : {}) });
      expect({ method, path, status: response.status, code: response.body.code }).toEqual({ method, path, status: 403, code: 'FORBIDDEN' });
      expect(await api.app.log.headPosition()).toBe(before);
    }
    expect(await trpcOutcome(() => api.trpc(key).workers.webhooks.regenerateToken.mutate({ workerId }))).toMatchObject({ status: 403, code: 'FORBIDDEN' });
    expect((await api.request('POST', '/api/task-completions', { key, json: { taskId: 't1', workerId, status: 'completed' } })).status).toBe(403);
  });

  test('readOnly: false also operates the webhook (rotation shows the new secrets), never sets its URL', async () => {
    const workerId = await workerWithWebhook();
    const { key } = await portalLink(workerId, { readOnly: false, expiresInSeconds: 60 });
    const rotated = await api.request('POST', `/api/workers/${workerId}/webhook/regenerate-token`, { key });
    expect(rotated.status).toBe(200);
    expect(rotated.body.signingSecret).toMatch(/^whsec_/);
    expect((await api.request('GET', `/api/workers/${workerId}/webhook`, { key })).body.token).toBe(rotated.body.token);
    expect((await api.request('PUT', `/api/workers/${workerId}/webhook`, { key, json: { url: 'https://example.com/x' } })).status).toBe(403);
    expect((await api.request('DELETE', `/api/workers/${workerId}/webhook`, { key })).status).toBe(403);
  });

  test('§8 operations: a read-only link may read recoveries and executions, never operate; a writable one may', async () => {
    const workerId = await workerWithWebhook();
    const readOnly = (await portalLink(workerId)).key;
    const writable = (await portalLink(workerId, { readOnly: false })).key;
    const since = new Date(Date.now() - 60_000).toISOString();
    const operations = [
      ['POST', `/api/workers/${workerId}/webhook/disable`, undefined, 200],
      ['POST', `/api/workers/${workerId}/webhook/enable`, undefined, 200],
      ['POST', `/api/workers/${workerId}/webhook/recover`, { since, dryRun: true }, 200],
      ['POST', `/api/workers/${workerId}/webhook/executions/whe_01ARZ3NDEKTSV4RRFFQ69G5FAV/redeliver`, undefined, 404],
    ] as const;
    for (const [method, path, json, status] of operations) {
      const refused = await api.request(method, path, { key: readOnly, ...(json ? { json } : {}) });
      expect({ path, status: refused.status, code: refused.body.code }).toEqual({ path, status: 403, code: 'FORBIDDEN' });
      const allowed = await api.request(method, path, { key: writable, ...(json ? { json } : {}) });
      expect({ path, status: allowed.status }).toEqual({ path, status });
    }
    expect((await api.request('POST', `/api/workers/${workerId}/webhook/test`, { key: readOnly })).status).toBe(403);
    // Reads: an unknown execution or recovery is a 404 for a read-only link too (it reached the procedure).
    expect((await api.request('GET', `/api/workers/${workerId}/webhook/executions/whe_01ARZ3NDEKTSV4RRFFQ69G5FAV`, { key: readOnly })).status).toBe(404);
    expect((await api.request('GET', `/api/workers/${workerId}/webhook/recoveries/rec_01ARZ3NDEKTSV4RRFFQ69G5FAV`, { key: readOnly })).status).toBe(404);
  });

  test("a link grants its own worker only: another worker of the same creator is 404", async () => {
    const workerId = await workerWithWebhook();
    const other = await workerWithWebhook();
    const { key } = await portalLink(workerId);
    const response = await api.request('GET', `/api/workers/${other}/webhook/executions`, { key });
    expect(response.status).toBe(404);
    expect(response.body.code).toBe('NOT_FOUND');
  });

  test('removing the webhook ends the link, and setting a URL again does not revive it', async () => {
    const workerId = await workerWithWebhook();
    const { key } = await portalLink(workerId);
    expect((await api.request('DELETE', `/api/workers/${workerId}/webhook`, { key: creator })).status).toBe(200);
    expect((await api.request('GET', `/api/workers/${workerId}/webhook`, { key })).status).toBe(401);
    await api.request('PUT', `/api/workers/${workerId}/webhook`, { key: creator, json: { url: 'https://example.com/again' } });
    const response = await api.request('GET', `/api/workers/${workerId}/webhook/executions`, { key });
    expect(response.status).toBe(401);
    expect(response.body.code).toBe('UNAUTHORIZED');
  });

  test('a URL change keeps the link (same webhook); deleting the worker ends it', async () => {
    const workerId = await workerWithWebhook();
    const { key } = await portalLink(workerId);
    await api.request('PUT', `/api/workers/${workerId}/webhook`, { key: creator, json: { url: 'https://example.com/moved' } });
    expect((await api.request('GET', `/api/workers/${workerId}/webhook`, { key })).body.url).toBe('https://example.com/moved');
    expect((await api.request('DELETE', `/api/workers/${workerId}`, { key: creator })).status).toBe(200);
    expect((await api.request('GET', `/api/workers/${workerId}/webhook/executions`, { key })).status).toBe(401);
  });

  test('a link stops working at expiresAt (decided against the request time)', async () => {
    const workerId = await workerWithWebhook();
    // Issued 61 s ago with the shortest lifetime: expired a second ago.
    const past = () => new Date(Date.now() - 61_000);
    const issuer = new PortalSessionCommands({ database: api.app.database, log: api.app.log, readModels: api.app.readModels, ids: createIdGenerator(), clock: past });
    const expired = await issuer.create(workerId, { expiresInSeconds: 60, readOnly: true });
    const live = await issuer.create(workerId, { expiresInSeconds: 120, readOnly: true });
    expect((await api.request('GET', `/api/workers/${workerId}/webhook/executions`, { key: expired.credential })).status).toBe(401);
    expect((await api.request('GET', `/api/workers/${workerId}/webhook/executions`, { key: live.credential })).status).toBe(200);
  });

  test.each([
    { body: { expiresInSeconds: 59 }, message: 'expiresInSeconds: must be ≥ 60' },
    { body: { expiresInSeconds: 86_401 }, message: 'expiresInSeconds: must be ≤ 86400' },
    { body: { expiresInSeconds: 1.5 }, message: 'expiresInSeconds: must be an integer' },
    { body: { expiresInSeconds: '900' }, message: 'expiresInSeconds: must be a number' },
    { body: { readOnly: 'yes' }, message: 'readOnly: must be a boolean' },
  ])('bad input $body → 400 "$message"', async ({ body, message }) => {
    const workerId = await workerWithWebhook();
    const response = await api.request('POST', `/api/workers/${workerId}/webhook/portal-sessions`, { key: creator, json: body });
    expect(response.status).toBe(400);
    expect(response.body).toEqual({ code: 'BAD_REQUEST', message });
  });

  test('creator-only, and only with a webhook: colleague 403, no webhook 409 (REST and tRPC)', async () => {
    const workerId = await workerWithWebhook();
    expect((await api.request('POST', `/api/workers/${workerId}/webhook/portal-sessions`, { key: colleague })).status).toBe(403);
    const bare = (await api.request('POST', '/api/workers', { key: creator, json: {} })).body.id as string;
    const response = await api.request('POST', `/api/workers/${bare}/webhook/portal-sessions`, { key: creator });
    expect(response.status).toBe(409);
    expect(response.body.code).toBe('CONFLICT');
    const outcome = await trpcOutcome(() => api.trpc(creator).workers.webhooks.createPortalSession.mutate({ workerId, readOnly: false }));
    expect(outcome).toMatchObject({ ok: { url: expect.stringContaining('/console/portal#worker=') } });
  });
});
