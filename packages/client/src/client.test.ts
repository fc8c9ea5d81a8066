import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Handinger from '@ramensoft/handinger';
import { createApiHandler } from '@handinger-webhooks/api';
import { openApplication, type Application } from '@handinger-webhooks/commands';
import { NO_WEBHOOK, silentLogger } from '@handinger-webhooks/contracts';
import { TEST_BACKENDS, createTestDatabase, type TestDatabase } from '@handinger-webhooks/testing';
import { TRPCClientError } from '@trpc/client';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createHandingerClient, type HandingerClient } from './index.js';

/**
 * The typed client against a real server, side by side with the official
 * SDK: the same scenario through both must give the same results.
 */

/** One call's outcome, errors included, in a form both clients can be compared in. */
type Outcome = { ok: unknown } | { status: number; code: string; message: string };

/** The operations of SPEC §3/§4, behind one interface, so one scenario drives either client. */
interface Operations {
  create(body: { title?: string; instructions?: string; summary?: string; visibility?: 'public' | 'private' }): Promise<{ id: string }>;
  deleteWorker(workerId: string): Promise<unknown>;
  retrieve(workerId: string): Promise<unknown>;
  update(workerId: string, url: string | null): Promise<unknown>;
  deleteWebhook(workerId: string): Promise<unknown>;
  regenerate(workerId: string): Promise<unknown>;
  list(workerId: string, page?: number): Promise<unknown>;
  record(body: { taskId: string; workerId: string; status: 'completed' | 'error' | 'aborted'; completedAt?: string }): Promise<unknown>;
}

async function outcome(call: () => Promise<unknown>): Promise<Outcome> {
  try {
    return { ok: await call() };
  } catch (error) {
    if (error instanceof Handinger.APIError) return { status: error.status!, ...(error.error as { code: string; message: string }) };
    if (error instanceof TRPCClientError) return { status: error.data.httpStatus, code: error.data.code, message: error.message };
    const e = error as { status: number; error: { code: string; message: string } };
    return { status: e.status, ...e.error };
  }
}

/**
 * Runs the whole scenario and returns its trace with the values that differ
 * by nature (ids, times, secrets) replaced by stable placeholders: `token#2`
 * means "the second distinct token seen", so "kept" and "replaced" still show.
 */
async function scenario(ops: Operations): Promise<unknown[]> {
  const trace: Outcome[] = [];
  const step = async (call: () => Promise<unknown>) => {
    const result = await outcome(call);
    trace.push(result);
    return result;
  };
  const created = await step(() => ops.create({ title: 'Parity', instructions: 'Do it', summary: 'Does', visibility: 'private' }));
  const workerId = (created as { ok: { id: string } }).ok.id;
  await step(() => ops.retrieve(workerId));
  await step(() => ops.update(workerId, 'https://example.com/a'));
  await step(() => ops.update(workerId, 'https://example.com/b'));
  await step(() => ops.regenerate(workerId));
  await step(() => ops.update(workerId, 'http://example.com/insecure'));
  await step(() => ops.list(workerId));
  await step(() => ops.list(workerId, 2));
  await step(() => ops.list(workerId, 0));
  await step(() => ops.record({ taskId: `parity-${workerId}`, workerId, status: 'completed', completedAt: '2024-01-01T00:00:00Z' }));
  await step(() => ops.record({ taskId: `parity-${workerId}`, workerId, status: 'completed' }));
  await step(() => ops.deleteWebhook(workerId));
  await step(() => ops.regenerate(workerId));
  await step(() => ops.update(workerId, null));
  await step(() => ops.deleteWorker(workerId));
  await step(() => ops.retrieve(workerId));
  await step(() => ops.deleteWorker(workerId));
  await step(() => ops.record({ taskId: `late-${workerId}`, workerId, status: 'error' }));
  return normalise(trace, workerId);
}

function normalise(trace: Outcome[], workerId: string): unknown[] {
  const seen = new Map<string, string>();
  const label = (kind: string, value: string) => {
    const key = `${kind}:${value}`;
    if (!seen.has(key)) seen.set(key, `${kind}#${[...seen.keys()].filter((k) => k.startsWith(`${kind}:`)).length + 1}`);
    return seen.get(key)!;
  };
  return JSON.parse(JSON.stringify(trace), (key, value) => {
    if (typeof value !== 'string') return value;
    if (key === 'token') return label('token', value);
    if (key === 'signingSecret') return label('secret', value);
    if (key === 'createdAt' || key === 'updatedAt') return '<time>';
    return value.replaceAll(workerId, '<worker>');
  });
}

describe.each(TEST_BACKENDS)('%s', (backend) => {
  let app: Application;
  let server: Server;
  let baseUrl: string;
  let requests = 0;
  let userKey: string;
  let serviceKey: string;
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase(backend, 'client.db');
    app = await openApplication({ db: database.db, secretKey: database.secretKey });
    const handler = createApiHandler({ app, allowPrivateNetwork: false, version: 'test', logger: silentLogger });
    server = createServer((req, res) => {
      requests += 1;
      handler(req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    userKey = (await app.commands.issueApiKey({ role: 'user', organizationId: 'org_parity', userId: 'user_1', name: null })).key;
    serviceKey = (await app.commands.issueApiKey({ role: 'service', organizationId: null, userId: null, name: 'runner' })).key;
  });

  afterAll(async () => {
    if (server) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
    try {
      await app?.close();
    } finally {
      await database?.drop();
    }
  });

  function viaSdk(): Operations {
    const sdk = new Handinger({ apiKey: userKey, baseURL: baseUrl });
    return {
      create: (body) => sdk.workers.create(body),
      deleteWorker: (id) => sdk.workers.delete(id),
      retrieve: (id) => sdk.workers.webhooks.retrieve(id),
      update: (id, url) => sdk.workers.webhooks.update(id, { url }),
      deleteWebhook: (id) => sdk.workers.webhooks.delete(id),
      regenerate: (id) => sdk.workers.webhooks.regenerateToken(id),
      list: (id, page) => sdk.workers.webhooks.listExecutions(id, page === undefined ? {} : { page }),
      // The SDK has no task-completions resource: the task runner POSTs the REST path.
      record: async (body) => {
        const response = await fetch(`${baseUrl}/api/task-completions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${serviceKey}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        const json = (await response.json()) as { message: string };
        if (response.status !== 202) throw Object.assign(new Error(json.message), { status: response.status, error: json });
        return json;
      },
    };
  }

  function viaClient(): Operations {
    const client = createHandingerClient({ baseUrl, apiKey: userKey });
    const service = createHandingerClient({ baseUrl, apiKey: serviceKey });
    return {
      create: (body) => client.workers.create.mutate(body),
      deleteWorker: (workerId) => client.workers.delete.mutate({ workerId }),
      retrieve: (workerId) => client.workers.webhooks.retrieve.query({ workerId }),
      update: (workerId, url) => client.workers.webhooks.update.mutate({ workerId, url }),
      deleteWebhook: (workerId) => client.workers.webhooks.delete.mutate({ workerId }),
      regenerate: (workerId) => client.workers.webhooks.regenerateToken.mutate({ workerId }),
      list: (workerId, page) => client.workers.webhooks.listExecutions.query(page === undefined ? { workerId } : { workerId, page }),
      record: (body) => service.taskCompletions.record.mutate(body),
    };
  }

  describe('createHandingerClient', () => {
    test('every operation gives the same results as the official SDK', async () => {
      const [sdkTrace, clientTrace] = [await scenario(viaSdk()), await scenario(viaClient())];
      expect(clientTrace).toEqual(sdkTrace);
      // The trace is meaningful: secrets were kept, then replaced; errors carry their status.
      expect(sdkTrace).toMatchObject([
        { ok: { id: '<worker>', title: 'Parity', visibility: 'private', url: 'https://handinger.com/workers/<worker>' } },
        { ok: NO_WEBHOOK },
        { ok: { token: 'token#1', url: 'https://example.com/a', signingSecret: 'secret#1' } },
        { ok: { token: 'token#1', url: 'https://example.com/b', signingSecret: 'secret#1' } },
        { ok: { token: 'token#2', url: 'https://example.com/b', signingSecret: 'secret#2' } },
        { status: 400, code: 'BAD_REQUEST', message: 'url: must use the https scheme' },
        { ok: { logs: [], page: 1, pageCount: 0, totalCount: 0 } },
        { ok: { logs: [], page: 2, pageCount: 0, totalCount: 0 } },
        { status: 400, code: 'BAD_REQUEST', message: 'page: must be an integer ≥ 1' },
        { ok: { accepted: true, duplicate: false } },
        { ok: { accepted: true, duplicate: true } },
        { ok: NO_WEBHOOK },
        { status: 409, code: 'CONFLICT' },
        { ok: NO_WEBHOOK },
        { ok: { deleted: true } },
        { status: 404, code: 'NOT_FOUND' },
        { status: 404, code: 'NOT_FOUND' },
        { status: 404, code: 'NOT_FOUND' },
      ]);
    });

    test('calls made together travel in one batched request', async () => {
      const client = createHandingerClient({ baseUrl: `${baseUrl}/`, apiKey: userKey });
      const { id } = await client.workers.create.mutate({});
      const before = requests;
      const [webhook, page, missing] = await Promise.all([
        client.workers.webhooks.retrieve.query({ workerId: id }),
        client.workers.webhooks.listExecutions.query({ workerId: id }),
        client.workers.webhooks.retrieve.query({ workerId: 'nope' }).catch((error: unknown) => error),
      ]);
      expect(requests - before).toBe(1);
      expect(webhook).toEqual(NO_WEBHOOK);
      expect(page).toEqual({ logs: [], page: 1, pageCount: 0, totalCount: 0 });
      expect(missing).toBeInstanceOf(TRPCClientError);
      expect((missing as TRPCClientError<never>).data).toMatchObject({ code: 'NOT_FOUND', httpStatus: 404 });
    });

    test('a bad key is an UNAUTHORIZED error', async () => {
      const client = createHandingerClient({ baseUrl, apiKey: 'hwk_wrong' });
      await expect(client.workers.create.mutate({})).rejects.toMatchObject({ data: { code: 'UNAUTHORIZED', httpStatus: 401 } });
    });
  });
});
