import { NO_WEBHOOK } from '@handinger-webhooks/contracts';
import { TEST_BACKENDS } from '@handinger-webhooks/testing';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestApi, type TestApi } from '../test-support/api-server.js';

/**
 * The REST dispatcher's own rules: which requests reach which procedure and
 * with what input. (Statuses, bodies and validation messages per route are
 * in `validation.test.ts` and the authorization matrix.)
 */

describe.each(TEST_BACKENDS)('%s', (backend) => {
  let api: TestApi;
  let key: string;
  let workerId: string;
  let otherWorkerId: string;

  beforeAll(async () => {
    api = await startTestApi({ backend });
    key = await api.userKey('org_rest', 'user_1');
    workerId = (await api.sdk(key).workers.create({ title: 'rest' })).id;
    otherWorkerId = (await api.sdk(key).workers.create({ title: 'other' })).id;
    await api.sdk(key).workers.webhooks.update(workerId, { url: 'https://example.com/rest' });
  });
  afterAll(() => api?.close());

  describe('routing', () => {
    test('every operation of the OpenAPI document is served at its method and path', async () => {
      const document = (await api.request('GET', '/api/openapi.json')).body;
      const operations = Object.entries(document.paths as Record<string, Record<string, unknown>>)
        .filter(([path]) => path !== '/healthz' && path !== '/api/openapi.json')
        .flatMap(([path, methods]) =>
          Object.keys(methods).map((method) => [method.toUpperCase(), path.replace('{workerId}', workerId).replace('{executionId}', 'whe_x').replace('{recoveryId}', 'rec_x')] as const),
        );
      expect(operations).toHaveLength(17);
      for (const [method, path] of operations) {
        // No key: the procedure's own authentication answers, so the route reached it.
        const response = await api.request(method, path, method === 'GET' || method === 'DELETE' ? {} : { json: {} });
        expect({ method, path, status: response.status, body: response.body }).toEqual({
          method,
          path,
          status: 401,
          body: { code: 'UNAUTHORIZED', message: 'Missing API key: send Authorization: Bearer <key>' },
        });
      }
    });

    test('one trailing slash is accepted', async () => {
      const response = await api.request('GET', `/api/workers/${workerId}/webhook/`, { key });
      expect(response.status).toBe(200);
      expect(response.body.url).toBe('https://example.com/rest');
    });

    test.each([
      ['an empty path segment', (id: string) => `/api/workers//${id}/webhook`],
      ['an empty parameter', () => '/api/workers//webhook'],
      ['an extra segment', (id: string) => `/api/workers/${id}/webhook/extra`],
      ['a literal segment in another case', (id: string) => `/api/Workers/${id}/webhook`],
    ])('%s is no route', async (_name, path) => {
      const response = await api.request('GET', path(workerId), { key });
      expect(response.status).toBe(404);
      expect(response.body).toEqual({ code: 'NOT_FOUND', message: `No route for GET ${path(workerId)}` });
      expect(response.headers.get('x-should-retry')).toBe('false');
    });

    test('HEAD is not GET', async () => {
      const response = await api.request('HEAD', `/api/workers/${workerId}/webhook`, { key });
      expect(response.status).toBe(404);
    });
  });

  describe('input', () => {
    test('the path parameter wins over a field of the same name in the query or the body', async () => {
      const page = await api.request('GET', `/api/workers/${workerId}/webhook/executions?workerId=${otherWorkerId}`, { key });
      expect(page.status).toBe(200);

      const updated = await api.request('PUT', `/api/workers/${otherWorkerId}/webhook`, { key, json: { workerId, url: 'https://example.com/other' } });
      expect(updated.status).toBe(200);
      expect((await api.sdk(key).workers.webhooks.retrieve(otherWorkerId)).url).toBe('https://example.com/other');
      expect((await api.sdk(key).workers.webhooks.retrieve(workerId)).url).toBe('https://example.com/rest');
    });

    test('query parameters named like Object.prototype members are unknown fields, ignored', async () => {
      const response = await api.request('GET', `/api/workers/${workerId}/webhook/executions?__proto__=1&constructor=2&toString=3&hasOwnProperty=4&page=1`, { key });
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ logs: [], page: 1, pageCount: 0, totalCount: 0 });
    });

    test('a body sent with DELETE is not read as input, nor parsed (its input is the path and the query)', async () => {
      const doomed = (await api.sdk(key).workers.create({ title: 'doomed' })).id;
      const response = await api.request('DELETE', `/api/workers/${doomed}`, { key, raw: 'not json {', headers: { 'content-type': 'application/json' } });
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ deleted: true });
    });

    test('the success status and body are the procedure’s', async () => {
      const response = await api.request('POST', `/api/workers/${workerId}/webhook/regenerate-token`, { key });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
      expect(Object.keys(response.body).sort()).toEqual(Object.keys(NO_WEBHOOK).sort());
    });
  });
});
