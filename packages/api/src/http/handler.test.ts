import { NO_WEBHOOK } from '@handinger-webhooks/contracts';
import { connect } from 'node:net';
import { once } from 'node:events';
import type { Logger } from '@handinger-webhooks/contracts';
import { TEST_BACKENDS } from '@handinger-webhooks/testing';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestApi, type TestApi } from '../test-support/api-server.js';

/** SPEC §3's REST table: every path and method the document must list. */
const SPEC_OPERATIONS = [
  ['post', '/api/workers'],
  ['get', '/api/workers'],
  ['delete', '/api/workers/{workerId}'],
  ['get', '/api/workers/{workerId}/webhook'],
  ['put', '/api/workers/{workerId}/webhook'],
  ['delete', '/api/workers/{workerId}/webhook'],
  ['post', '/api/workers/{workerId}/webhook/regenerate-token'],
  ['get', '/api/workers/{workerId}/webhook/executions'],
  // SPEC §8
  ['post', '/api/workers/{workerId}/webhook/test'],
  ['post', '/api/workers/{workerId}/webhook/executions/{executionId}/redeliver'],
  ['post', '/api/workers/{workerId}/webhook/recover'],
  ['get', '/api/workers/{workerId}/webhook/recoveries/{recoveryId}'],
  ['post', '/api/workers/{workerId}/webhook/disable'],
  ['post', '/api/workers/{workerId}/webhook/enable'],
  ['get', '/api/workers/{workerId}/webhook/executions/{executionId}'],
  ['post', '/api/task-completions'],
  ['post', '/api/workers/{workerId}/webhook/portal-sessions'],
  ['get', '/healthz'],
  ['get', '/api/openapi.json'],
] as const;

/** Sends raw bytes on one connection and resolves with everything the server wrote back before closing. */
async function rawExchange(baseUrl: string, head: string, body: string, options: { thenDestroy?: boolean } = {}): Promise<string> {
  const { port } = new URL(baseUrl);
  const socket = connect(Number(port), '127.0.0.1');
  await once(socket, 'connect');
  let received = '';
  socket.on('data', (chunk) => (received += chunk.toString('utf8')));
  socket.write(head + body);
  if (options.thenDestroy) {
    socket.destroy();
    return '';
  }
  await once(socket, 'close');
  return received;
}

/** What each driver throws once the database is closed: the cause the log must carry. */
const CLOSED_DATABASE = {
  sqlite: /database connection is not open/i, // better-sqlite3
  postgres: /pool after calling end/i, // node-postgres
} as const;

describe.each(TEST_BACKENDS)('%s', (backend) => {
  let api: TestApi;

  beforeAll(async () => {
    api = await startTestApi({ backend });
  });
  afterAll(() => api?.close());

  describe('plain routes', () => {
    test('GET /healthz needs no key', async () => {
      const response = await api.request('GET', '/healthz');
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ status: 'ok' });
    });

    test('GET /api/openapi.json is an OpenAPI 3 document of every SPEC §3 operation', async () => {
      const response = await api.request('GET', '/api/openapi.json');
      expect(response.status).toBe(200);
      const document = response.body;
      expect(document.openapi).toMatch(/^3\.\d+\.\d+$/);
      expect(document.info).toMatchObject({ title: expect.any(String), version: '0.0.0-test' });
      const listed = Object.entries(document.paths as Record<string, Record<string, unknown>>).flatMap(([path, operations]) =>
        Object.keys(operations).map((method) => `${method} ${path}`),
      );
      expect(listed.sort()).toEqual(SPEC_OPERATIONS.map(([method, path]) => `${method} ${path}`).sort());
      expect(Object.keys(document.paths['/api/task-completions'].post.responses)).toContain('202');
      expect(document.paths['/api/task-completions'].post.responses['200']).toBeUndefined();
      expect(document.paths['/api/workers/{workerId}/webhook/executions'].get.parameters).toContainEqual(
        expect.objectContaining({ in: 'query', name: 'page', schema: expect.objectContaining({ type: 'integer', minimum: 1 }) }),
      );
      expect(document.paths['/api/workers/{workerId}/webhook'].put.requestBody.content['application/json'].schema.required).toEqual(['url']);
      expect(document.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
      expect(document.components.schemas.Webhook.required.sort()).toEqual(Object.keys(NO_WEBHOOK).sort());
      // Its body is optional (SPEC §8.1): no body is the same as {}.
      expect(document.paths['/api/workers/{workerId}/webhook/regenerate-token'].post.requestBody.required).not.toBe(true);
      expect(document.paths['/api/workers/{workerId}/webhook'].get.responses['404'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/Error' });
      // Every $ref points at a schema that exists.
      const refs = JSON.stringify(document).match(/#\/components\/schemas\/[^"]+/g) ?? [];
      for (const ref of refs) expect(document.components.schemas).toHaveProperty([ref.split('/').at(-1)!]);
    });

    test('unknown routes are 404 JSON on every prefix', async () => {
      for (const [method, path] of [['GET', '/consolex'], ['GET', '/api'], ['POST', '/healthz'], ['DELETE', '/api/openapi.json'], ['GET', '/apix']]) {
        const response = await api.request(method!, path!);
        expect(response.status).toBe(404);
        expect(response.body).toEqual({ code: 'NOT_FOUND', message: `No route for ${method} ${path}` });
        expect(response.headers.get('x-should-retry')).toBe('false');
      }
      const trpc = await api.request('GET', '/trpc/workers.nothing');
      expect(trpc.status).toBe(404);
      expect(trpc.body.error).toMatchObject({ data: { code: 'NOT_FOUND', httpStatus: 404 } });
    });

    test('successful responses carry no retry hint', async () => {
      const response = await api.request('GET', '/healthz');
      expect(response.headers.get('x-should-retry')).toBeNull();
    });
  });

  describe('bodies the client lies about', () => {
    test('a declared Content-Length over 1 MiB is refused at once, without waiting for the body', async () => {
      const head = `POST /api/workers HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\nContent-Type: application/json\r\nContent-Length: ${2 * 1024 * 1024}\r\n\r\n`;
      const response = await rawExchange(api.baseUrl, head, '{"title":');
      expect(response).toMatch(/^HTTP\/1\.1 413 /);
      expect(response).toMatch(/connection: close/i);
      expect(response).toContain('{"code":"PAYLOAD_TOO_LARGE","message":"body: must be at most 1048576 bytes (1 MiB)"}');
    });

    test('a client that hangs up mid-body is dropped and the server carries on', async () => {
      const logged: object[] = [];
      const watched = await startTestApi({ backend, logger: { debug() {}, info() {}, warn() {}, error: (fields) => logged.push(fields) } });
      try {
        const head = 'PUT /api/workers/x/webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n';
        await rawExchange(watched.baseUrl, head, '{"url":"https://exa', { thenDestroy: true });
        expect((await watched.request('GET', '/healthz')).status).toBe(200);
        expect(logged).toEqual([]);
      } finally {
        await watched.close();
      }
    });
  });

  describe('unexpected failures', () => {
    test('are a generic 500, logged with their cause, with no stack in the response', async () => {
      const logged: { fields: object; message?: string }[] = [];
      const logger: Logger = { debug() {}, info() {}, warn() {}, error: (fields, message) => logged.push({ fields, ...(message ? { message } : {}) }) };
      const broken = await startTestApi({ backend, logger });
      try {
        const key = await broken.userKey('org_1', 'user_1');
        const workerId = (await broken.sdk(key).workers.create({})).id;
        await broken.app.database.close(); // every query now throws

        for (const [path, surface] of [[`/api/workers/${workerId}/webhook`, 'rest'], [`/trpc/workers.webhooks.retrieve?input=${encodeURIComponent(JSON.stringify({ workerId }))}`, 'trpc']] as const) {
          const response = await broken.request('GET', path, { key });
          expect(response.status).toBe(500);
          const body = surface === 'rest' ? response.body : response.body.error;
          expect(body).toMatchObject({ message: 'Internal server error' });
          expect(JSON.stringify(response.body)).not.toMatch(/stack|at .*\.ts|database|pool/i);
          expect(response.headers.get('x-should-retry')).toBeNull();
          if (surface === 'rest') expect(response.body).toEqual({ code: 'INTERNAL_SERVER_ERROR', message: 'Internal server error' });
        }
        expect(logged).toHaveLength(2);
        expect(logged[0]).toMatchObject({ message: 'unexpected error in API procedure', fields: { surface: 'rest', error: { message: expect.stringMatching(CLOSED_DATABASE[backend]) } } });
        expect(JSON.stringify(logged)).not.toContain(key);
      } finally {
        await broken.close();
      }
    });
  });
});
