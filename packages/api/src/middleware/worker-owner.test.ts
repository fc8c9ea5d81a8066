import { TEST_BACKENDS } from '@handinger-webhooks/testing';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestApi, trpcOutcome, type TestApi } from '../test-support/api-server.js';

/**
 * The order of the checks on a per-worker procedure: key (401), role (403),
 * `workerId` (400), owner (404/403), then the rest of the input (400). A
 * caller without access learns nothing from the validation of the rest.
 */

describe.each(TEST_BACKENDS)('%s', (backend) => {
  let api: TestApi;
  const keys = {} as Record<'creator' | 'colleague' | 'service', string>;
  let workerId: string;

  beforeAll(async () => {
    api = await startTestApi({ backend });
    keys.creator = await api.userKey('org_order', 'user_creator');
    keys.colleague = await api.userKey('org_order', 'user_colleague');
    keys.service = await api.serviceKey();
    workerId = (await api.sdk(keys.creator).workers.create({ title: 'order' })).id;
  });
  afterAll(() => api?.close());

  const listExecutions = (key: string | undefined, input: unknown) =>
    trpcOutcome(() => api.trpc(key).workers.webhooks.listExecutions.query(input as { workerId: string }));

  describe('tRPC', () => {
    test('a workerId of the wrong type: 401 without a key, 403 with a service key, 400 with a user key', async () => {
      expect(await listExecutions(undefined, { workerId: 5 })).toMatchObject({ status: 401, code: 'UNAUTHORIZED' });
      expect(await listExecutions(keys.service, { workerId: 5 })).toMatchObject({ status: 403, code: 'FORBIDDEN' });
      expect(await listExecutions(keys.colleague, { workerId: 5 })).toEqual({ status: 400, code: 'BAD_REQUEST', message: 'workerId: must be a string' });
      expect(await listExecutions(keys.colleague, undefined)).toEqual({ status: 400, code: 'BAD_REQUEST', message: 'input: is required' });
    });

    test('the rest of the input is validated only for the creator', async () => {
      expect(await listExecutions(keys.colleague, { workerId, page: 0 })).toMatchObject({ status: 403, code: 'FORBIDDEN' });
      expect(await listExecutions(keys.creator, { workerId, page: 0 })).toEqual({ status: 400, code: 'BAD_REQUEST', message: 'page: must be an integer ≥ 1' });
      expect(await listExecutions(keys.creator, { workerId, page: 1 })).toEqual({ ok: { logs: [], page: 1, pageCount: 0, totalCount: 0 } });
    });
  });

  describe('REST', () => {
    test('the rest of the input is validated only for the creator', async () => {
      const path = `/api/workers/${workerId}/webhook`;
      expect((await api.request('PUT', path, { key: keys.colleague, json: { url: 42 } })).status).toBe(403);
      expect((await api.request('PUT', path, { json: { url: 42 } })).status).toBe(401);
      const refused = await api.request('PUT', path, { key: keys.creator, json: { url: 42 } });
      expect(refused.status).toBe(400);
      expect(refused.body).toEqual({ code: 'BAD_REQUEST', message: 'url: must be a string' });
    });
  });
});
