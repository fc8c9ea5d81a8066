import { openApplication } from '@handinger-webhooks/commands';
import { TEST_BACKENDS } from '@handinger-webhooks/testing';
import type { TRPCClient } from '@trpc/client';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { AppRouter } from '../index.js';
import { startTestApi, trpcOutcome, unknownWorkerId, type TestApi } from '../test-support/api-server.js';

/**
 * SPEC §2's access rules for every route, on both surfaces: a table of
 * callers × routes, each case against a fresh worker, checking the status,
 * the `{ code, message }` body, and that a refused request changed nothing.
 */

const ORG = 'org_acme';
type KeyName = 'creator' | 'colleague' | 'outsider' | 'revoked' | 'service' | 'revokedService';
type Target = 'own' | 'deleted' | 'malformed' | 'unknown' | 'other-org-id';

interface Route {
  name: string;
  method: string;
  path: (workerId: string) => string;
  body?: unknown;
  trpc: (client: TRPCClient<AppRouter>, workerId: string) => Promise<unknown>;
}

const workerRoutes: Route[] = [
  { name: 'DELETE /api/workers/{id}', method: 'DELETE', path: (id) => `/api/workers/${id}`, trpc: (c, workerId) => c.workers.delete.mutate({ workerId }) },
  { name: 'GET …/webhook', method: 'GET', path: (id) => `/api/workers/${id}/webhook`, trpc: (c, workerId) => c.workers.webhooks.retrieve.query({ workerId }) },
  {
    name: 'PUT …/webhook',
    method: 'PUT',
    path: (id) => `/api/workers/${id}/webhook`,
    body: { url: 'https://example.com/other' },
    trpc: (c, workerId) => c.workers.webhooks.update.mutate({ workerId, url: 'https://example.com/other' }),
  },
  { name: 'DELETE …/webhook', method: 'DELETE', path: (id) => `/api/workers/${id}/webhook`, trpc: (c, workerId) => c.workers.webhooks.delete.mutate({ workerId }) },
  {
    name: 'POST …/webhook/regenerate-token',
    method: 'POST',
    path: (id) => `/api/workers/${id}/webhook/regenerate-token`,
    trpc: (c, workerId) => c.workers.webhooks.regenerateToken.mutate({ workerId }),
  },
  {
    name: 'GET …/webhook/executions',
    method: 'GET',
    path: (id) => `/api/workers/${id}/webhook/executions`,
    trpc: (c, workerId) => c.workers.webhooks.listExecutions.query({ workerId }),
  },
];

interface Case {
  name: string;
  key: KeyName | 'none' | 'bad';
  target: Target;
  status: number;
  code?: string;
}

const cases: Case[] = [
  { name: 'creator', key: 'creator', target: 'own', status: 200 },
  { name: 'same-org non-creator', key: 'colleague', target: 'own', status: 403, code: 'FORBIDDEN' },
  { name: 'other organization', key: 'outsider', target: 'own', status: 404, code: 'NOT_FOUND' },
  { name: 'deleted worker', key: 'creator', target: 'deleted', status: 404, code: 'NOT_FOUND' },
  { name: 'malformed id', key: 'creator', target: 'malformed', status: 404, code: 'NOT_FOUND' },
  { name: 'unknown id', key: 'creator', target: 'unknown', status: 404, code: 'NOT_FOUND' },
  { name: "another organization's id", key: 'creator', target: 'other-org-id', status: 404, code: 'NOT_FOUND' },
  { name: 'no key', key: 'none', target: 'own', status: 401, code: 'UNAUTHORIZED' },
  { name: 'bad key', key: 'bad', target: 'own', status: 401, code: 'UNAUTHORIZED' },
  { name: 'revoked key', key: 'revoked', target: 'own', status: 401, code: 'UNAUTHORIZED' },
  { name: 'service key on a user route', key: 'service', target: 'own', status: 403, code: 'FORBIDDEN' },
];

describe.each(TEST_BACKENDS)('%s', (backend) => {
  let api: TestApi;
  const keys: Record<KeyName, string> = {} as never;

  beforeAll(async () => {
    api = await startTestApi({ backend });
    keys.creator = await api.userKey(ORG, 'user_alice');
    keys.colleague = await api.userKey(ORG, 'user_bob');
    // Same user id in another organization: must not be mistaken for the creator.
    keys.outsider = await api.userKey('org_other', 'user_alice');
    keys.service = await api.serviceKey();
    const revoked = await api.app.commands.issueApiKey({ role: 'user', organizationId: ORG, userId: 'user_alice', name: 'old laptop' });
    await api.app.commands.revokeApiKey(revoked.row.id);
    keys.revoked = revoked.key;
    const revokedService = await api.app.commands.issueApiKey({ role: 'service', organizationId: null, userId: null, name: 'old runner' });
    await api.app.commands.revokeApiKey(revokedService.row.id);
    keys.revokedService = revokedService.key;
  });
  afterAll(() => api?.close());

  /** A worker of `user_alice` with a webhook (so regenerate-token can succeed for its creator). */
  async function freshWorker(): Promise<string> {
    const worker = await api.sdk(keys.creator).workers.create({ title: 'matrix' });
    await api.sdk(keys.creator).workers.webhooks.update(worker.id, { url: 'https://example.com/hook' });
    return worker.id;
  }

  async function workerIdFor(target: Target): Promise<string> {
    switch (target) {
      case 'own':
        return freshWorker();
      case 'deleted': {
        const id = await freshWorker();
        await api.sdk(keys.creator).workers.delete(id);
        return id;
      }
      case 'malformed':
        return 'not-a-worker-id';
      case 'unknown':
        return unknownWorkerId(ORG);
      case 'other-org-id':
        return unknownWorkerId('org_other');
    }
  }

  const keyFor = (key: Case['key']): string | undefined => (key === 'none' ? undefined : key === 'bad' ? 'hwk_not-a-real-key' : keys[key]);

  describe.each(workerRoutes)('$name', (route) => {
    test.each(cases)('REST: $name → $status', async ({ key, target, status, code }) => {
      const workerId = await workerIdFor(target);
      const before = await api.app.log.headPosition();
      const response = await api.request(route.method, route.path(workerId), { key: keyFor(key), ...(route.body ? { json: route.body } : {}) });
      expect(response.status).toBe(status);
      if (status >= 400) {
        expect(response.body).toEqual({ code, message: expect.any(String) });
        expect(response.headers.get('x-should-retry')).toBe('false');
        expect(await api.app.log.headPosition()).toBe(before);
      }
    });

    test.each(cases)('tRPC: $name → $status', async ({ key, target, status, code }) => {
      const workerId = await workerIdFor(target);
      const before = await api.app.log.headPosition();
      const outcome = await trpcOutcome(() => route.trpc(api.trpc(keyFor(key)), workerId));
      if (status < 400) {
        expect(outcome).toHaveProperty('ok');
      } else {
        expect(outcome).toEqual({ status, code, message: expect.any(String) });
        expect(await api.app.log.headPosition()).toBe(before);
      }
    });
  });

  describe('POST /api/workers (workers.create)', () => {
    const createCases = [
      { name: 'user key', key: 'creator', status: 200 },
      { name: 'no key', key: 'none', status: 401, code: 'UNAUTHORIZED' },
      { name: 'bad key', key: 'bad', status: 401, code: 'UNAUTHORIZED' },
      { name: 'revoked key', key: 'revoked', status: 401, code: 'UNAUTHORIZED' },
      { name: 'service key', key: 'service', status: 403, code: 'FORBIDDEN' },
    ] as const;

    test.each(createCases)('$name → $status (REST and tRPC)', async ({ key, status, ...rest }) => {
      const before = await api.app.log.headPosition();
      const response = await api.request('POST', '/api/workers', { key: keyFor(key), json: { title: 'auth' } });
      const outcome = await trpcOutcome(() => api.trpc(keyFor(key)).workers.create.mutate({ title: 'auth' }));
      expect(response.status).toBe(status);
      if (status === 200) {
        expect(outcome).toHaveProperty('ok');
      } else {
        const code = 'code' in rest ? rest.code : undefined;
        expect(response.body).toEqual({ code, message: expect.any(String) });
        expect(outcome).toEqual({ status, code, message: response.body.message });
        expect(await api.app.log.headPosition()).toBe(before);
      }
    });
  });

  describe('POST /api/task-completions (taskCompletions.record, service only)', () => {
    const taskCases = [
      { name: 'service key', key: 'service', status: 202 },
      { name: 'user key', key: 'creator', status: 403, code: 'FORBIDDEN' },
      { name: 'no key', key: 'none', status: 401, code: 'UNAUTHORIZED' },
      { name: 'bad key', key: 'bad', status: 401, code: 'UNAUTHORIZED' },
      { name: 'revoked service key', key: 'revokedService', status: 401, code: 'UNAUTHORIZED' },
    ] as const;

    test.each(taskCases)('$name → $status (REST and tRPC)', async ({ key, status, ...rest }) => {
      const workerId = await freshWorker();
      const before = await api.app.log.headPosition();
      const body = { taskId: `task-${key}-${workerId}`, workerId, status: 'completed' as const };
      const response = await api.request('POST', '/api/task-completions', { key: keyFor(key), json: body });
      const outcome = await trpcOutcome(() => api.trpc(keyFor(key)).taskCompletions.record.mutate({ ...body, taskId: `${body.taskId}-trpc` }));
      expect(response.status).toBe(status);
      if (status === 202) {
        expect(response.body).toEqual({ accepted: true, duplicate: false });
        expect(outcome).toEqual({ ok: { accepted: true, duplicate: false } });
      } else {
        const code = 'code' in rest ? rest.code : undefined;
        expect(response.body).toEqual({ code, message: expect.any(String) });
        expect(outcome).toEqual({ status, code, message: response.body.message });
        expect(await api.app.log.headPosition()).toBe(before);
      }
    });
  });

  describe('API keys', () => {
    test('a key revoked through another connection (as the CLI does) is refused on the very next request', async () => {
      const issued = await api.app.commands.issueApiKey({ role: 'user', organizationId: ORG, userId: 'user_alice', name: 'to revoke' });
      const workerId = await freshWorker();
      expect((await api.request('GET', `/api/workers/${workerId}/webhook`, { key: issued.key })).status).toBe(200);

      const cli = await openApplication({ db: api.database.db, secretKey: api.database.secretKey });
      try {
        await cli.commands.revokeApiKey(issued.row.id);
      } finally {
        await cli.close();
      }

      const response = await api.request('GET', `/api/workers/${workerId}/webhook`, { key: issued.key });
      expect(response.status).toBe(401);
      expect(response.body).toEqual({ code: 'UNAUTHORIZED', message: 'Invalid or revoked API key' });
    });

    test.each([
      ['no header', {}],
      ['another scheme', { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` }],
      ['an empty bearer', { authorization: 'Bearer ' }],
    ])('%s is a 401 naming the missing key', async (_name, headers) => {
      const response = await api.request('POST', '/api/workers', { json: {}, headers });
      expect(response.status).toBe(401);
      expect(response.body).toEqual({ code: 'UNAUTHORIZED', message: 'Missing API key: send Authorization: Bearer <key>' });
    });

    test('the bearer scheme is case-insensitive', async () => {
      const response = await api.request('POST', '/api/workers', { json: {}, headers: { authorization: `bearer ${keys.creator}` } });
      expect(response.status).toBe(200);
    });
  });
});
