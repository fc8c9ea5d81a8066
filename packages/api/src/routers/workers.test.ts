import Handinger from '@ramensoft/handinger';
import { TEST_BACKENDS } from '@handinger-webhooks/testing';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestApi, type TestApi } from '../test-support/api-server.js';

const ISO_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

describe.each(TEST_BACKENDS)('%s', (backend) => {
  let api: TestApi;
  let key: string;

  beforeAll(async () => {
    api = await startTestApi({ backend });
    key = await api.userKey('org_123', 'user_9');
  });
  afterAll(() => api?.close());

  describe('workers', () => {
    test('create (SDK): the caller is the creator, the URL points at the dashboard', async () => {
      const worker = await api.sdk(key).workers.create({ title: 'Research', instructions: 'Find things', summary: 'Finds', visibility: 'private' });
      expect(worker).toEqual({
        id: expect.stringMatching(/^t_org_123_w_[0-9A-HJKMNP-TV-Z]{26}$/),
        createdAt: expect.stringMatching(ISO_MS),
        updatedAt: worker.createdAt,
        instructions: 'Find things',
        organizationId: 'org_123',
        outputSchema: null,
        summary: 'Finds',
        title: 'Research',
        url: `https://handinger.com/workers/${worker.id}`,
        userId: 'user_9',
        visibility: 'private',
      });
    });

    test('create with no fields takes the defaults the commands choose', async () => {
      const worker = await api.sdk(key).workers.create({});
      const row = (await api.app.readModels.worker(worker.id))!;
      expect(worker).toMatchObject({ title: row.title, instructions: '', summary: '', visibility: 'public' });
    });

    test('the typed client creates the same shape', async () => {
      const viaTrpc = await api.trpc(key).workers.create.mutate({ title: 'Same', visibility: 'public' });
      const viaSdk = await api.sdk(key).workers.create({ title: 'Same', visibility: 'public' });
      const strip = ({ id, createdAt, updatedAt, url, ...rest }: typeof viaTrpc) => rest;
      expect(strip(viaTrpc)).toEqual(strip(viaSdk as typeof viaTrpc));
    });

    test('list: the caller’s own live workers, newest first, 50 per page, on REST and tRPC', async () => {
      const mine = await api.userKey('org_list', 'user_list');
      const someoneElse = await api.userKey('org_list', 'user_other');
      const created: string[] = [];
      for (let i = 0; i < 53; i++) created.push((await api.trpc(mine).workers.create.mutate({ title: `w${i}` })).id);
      await api.trpc(someoneElse).workers.create.mutate({ title: 'not mine' });
      await api.trpc(mine).workers.delete.mutate({ workerId: created[52]! });
      const live = created.slice(0, 52).reverse(); // newest first

      const first = await api.request('GET', '/api/workers', { key: mine });
      expect(first.status).toBe(200);
      expect(first.body).toMatchObject({ page: 1, pageCount: 2, totalCount: 52 });
      expect(first.body.workers.map((w: { id: string }) => w.id)).toEqual(live.slice(0, 50));
      expect(first.body.workers[0]).toMatchObject({ organizationId: 'org_list', userId: 'user_list', title: 'w51', outputSchema: null });
      const second = await api.trpc(mine).workers.list.query({ page: 2 });
      expect(second.workers.map((w) => w.id)).toEqual(live.slice(50));
      expect(await api.trpc(mine).workers.list.query({ page: 3 })).toEqual({ workers: [], page: 3, pageCount: 2, totalCount: 52 });
      expect((await api.request('GET', '/api/workers', { key: someoneElse })).body).toMatchObject({ totalCount: 1, workers: [{ title: 'not mine' }] });
      for (const bad of ['0', '-1', '1.5', 'abc']) {
        const response = await api.request('GET', `/api/workers?page=${bad}`, { key: mine });
        expect(response).toMatchObject({ status: 400, body: { code: 'BAD_REQUEST', message: expect.stringContaining('page') } });
      }
      expect((await api.request('GET', '/api/workers', { key: await api.serviceKey() })).status).toBe(403);
      expect((await api.request('GET', '/api/workers')).status).toBe(401);
    });

    test('delete removes the worker and its webhook; afterwards it is a 404', async () => {
      const sdk = api.sdk(key);
      const { id } = await sdk.workers.create({ title: 'Doomed' });
      await sdk.workers.webhooks.update(id, { url: 'https://example.com/hook' });
      expect(await sdk.workers.delete(id)).toEqual({ deleted: true });
      expect(await api.app.readModels.webhook(id)).toBeUndefined();
      expect((await api.app.readModels.worker(id))!.deleted_at).not.toBeNull();
      await expect(sdk.workers.webhooks.retrieve(id)).rejects.toBeInstanceOf(Handinger.NotFoundError);
      await expect(sdk.workers.delete(id)).rejects.toBeInstanceOf(Handinger.NotFoundError);
    });

    test('delete through the typed client', async () => {
      const trpc = api.trpc(key);
      const { id } = await trpc.workers.create.mutate({});
      expect(await trpc.workers.delete.mutate({ workerId: id })).toEqual({ deleted: true });
      await expect(trpc.workers.webhooks.retrieve.query({ workerId: id })).rejects.toMatchObject({ data: { code: 'NOT_FOUND', httpStatus: 404 } });
    });

    test('the dashboard URL is an option', async () => {
      const other = await startTestApi({ backend, dashboardUrl: 'https://dash.example.com/' });
      try {
        const otherKey = await other.userKey('org_1', 'user_1');
        const worker = await other.sdk(otherKey).workers.create({});
        expect(worker.url).toBe(`https://dash.example.com/workers/${worker.id}`);
      } finally {
        await other.close();
      }
    });
  });
});
