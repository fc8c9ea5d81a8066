import { NO_WEBHOOK } from '@handinger-webhooks/contracts';
import { TEST_BACKENDS, type TestBackend } from '@handinger-webhooks/testing';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestApi, type RequestOptions, type TestApi } from '../test-support/api-server.js';

/**
 * Every input rule of SPEC §3, through the REST surface: each refused
 * request gets its exact status and `{ code, message }` body, carries
 * `x-should-retry: false`, and leaves the stored state as it was (the
 * webhook and the event log's head position).
 */

const KiB = 1024;
const MiB = 1024 * KiB;
const CONFIGURED_URL = 'https://example.com/configured';

/** A body stream of `total` bytes with no Content-Length (sent chunked). */
const chunkedBody = (total: number) => {
  let sent = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= total) return controller.close();
      const chunk = new Uint8Array(64 * KiB).fill(0x61);
      sent += chunk.length;
      controller.enqueue(chunk);
    },
  });
};

interface Fixture {
  api: TestApi;
  userKey: string;
  serviceKey: string;
  workerId: string;
}

async function setUp(backend: TestBackend, allowPrivateNetwork: boolean): Promise<Fixture> {
  const api = await startTestApi({ backend, allowPrivateNetwork });
  const userKey = await api.userKey('org_valid', 'user_1');
  const serviceKey = await api.serviceKey();
  const workerId = (await api.sdk(userKey).workers.create({ title: 'validation' })).id;
  await api.sdk(userKey).workers.webhooks.update(workerId, { url: CONFIGURED_URL });
  return { api, userKey, serviceKey, workerId };
}

interface Refusal {
  name: string;
  request: (f: Fixture) => [method: string, path: string, options: RequestOptions];
  status: number;
  code: string;
  message: string | RegExp;
}

const putUrl = (url: unknown) => (f: Fixture): [string, string, RequestOptions] => ['PUT', `/api/workers/${f.workerId}/webhook`, { key: f.userKey, json: { url } }];
const listPage = (page: string) => (f: Fixture): [string, string, RequestOptions] => ['GET', `/api/workers/${f.workerId}/webhook/executions?page=${page}`, { key: f.userKey }];
const createWorker = (body: unknown) => (f: Fixture): [string, string, RequestOptions] => ['POST', '/api/workers', { key: f.userKey, json: body }];
const recordTask = (body: (f: Fixture) => unknown) => (f: Fixture): [string, string, RequestOptions] => ['POST', '/api/task-completions', { key: f.serviceKey, json: body(f) }];
const rawBody = (method: string, path: (f: Fixture) => string, raw: string | (() => RequestOptions['raw']), headers: Record<string, string> = { 'content-type': 'application/json' }) =>
  (f: Fixture): [string, string, RequestOptions] => [method, path(f), { key: f.userKey, raw: typeof raw === 'function' ? raw() : raw, headers }];

const bad = (name: string, request: Refusal['request'], message: Refusal['message'], code = 'BAD_REQUEST', status = 400): Refusal => ({ name, request, status, code, message });
const blocked = (host: string, address: string, kind: string) =>
  bad(`url: ${kind} host ${host}`, putUrl(`https://${host}/hook`), new RegExp(`^url: must not target ${address.replace(/[.[\]]/g, '\\$&')}\\b.*${kind}`));

/** Refused without `--allow-private-network`; the next table shows which of these the flag allows. */
const strictRefusals: Refusal[] = [
  bad('url: missing', (f) => ['PUT', `/api/workers/${f.workerId}/webhook`, { key: f.userKey, json: {} }], 'url: is required'),
  bad('url: a number', putUrl(42), 'url: must be a string'),
  bad('url: an object', putUrl({ href: 'https://example.com' }), 'url: must be a string'),
  bad('url: relative', putUrl('/hooks/1'), 'url: must be an absolute URL'),
  bad('url: not a URL', putUrl('not a url'), 'url: must be an absolute URL'),
  bad('url: over 2048 characters', putUrl(`https://example.com/${'a'.repeat(2048)}`), 'url: must be at most 2048 characters'),
  bad('url: http', putUrl('http://example.com/hook'), 'url: must use the https scheme'),
  bad('url: ftp', putUrl('ftp://example.com/hook'), 'url: must use the https scheme'),
  bad('url: user and password', putUrl('https://user:secret@example.com/hook'), 'url: must not contain user info (user:pass@)'),
  bad('url: user only', putUrl('https://user@example.com/hook'), 'url: must not contain user info (user:pass@)'),
  bad('url: no host', putUrl('https://'), 'url: must be an absolute URL'),
  bad('url: empty host with a port', putUrl('https://:443/hook'), 'url: must be an absolute URL'),
  blocked('10.0.0.5', '10.0.0.5', 'private'),
  blocked('192.168.1.10', '192.168.1.10', 'private'),
  blocked('172.16.0.1', '172.16.0.1', 'private'),
  blocked('127.0.0.1', '127.0.0.1', 'loopback'),
  blocked('[::1]', '::1', 'loopback'),
  blocked('[::ffff:127.0.0.1]', '::ffff:7f00:1', 'loopback'),
  blocked('169.254.169.254', '169.254.169.254', 'link-local'),
  blocked('[fe80::1]', 'fe80::1', 'link-local'),
  blocked('100.64.0.1', '100.64.0.1', 'carrier-grade NAT'),
  blocked('[fd00::1]', 'fd00::1', 'private'),
  blocked('0.0.0.0', '0.0.0.0', 'unspecified'),
  blocked('224.0.0.1', '224.0.0.1', 'multicast'),
  bad('url: localhost', putUrl('https://localhost/hook'), 'url: must not target localhost'),
  bad('url: *.localhost', putUrl('https://api.localhost/hook'), 'url: must not target api.localhost'),
];

/** Refused whatever the flag says. */
const alwaysRefused: Refusal[] = [
  bad('url: relative (any policy)', putUrl('hooks/1'), 'url: must be an absolute URL'),
  bad('url: user info (any policy)', putUrl('https://user:pw@example.com/hook'), 'url: must not contain user info (user:pass@)'),
  bad('url: boolean', putUrl(true), 'url: must be a string'),
  bad('page: 0', listPage('0'), 'page: must be an integer ≥ 1'),
  bad('page: -1', listPage('-1'), 'page: must be an integer ≥ 1'),
  bad('page: 1.5', listPage('1.5'), 'page: must be an integer ≥ 1'),
  bad('page: abc', listPage('abc'), 'page: must be an integer ≥ 1'),
  bad('page: empty', listPage(''), 'page: must be an integer ≥ 1'),
  bad('page: 1e1', listPage('1e1'), 'page: must be an integer ≥ 1'),
  bad('page: beyond the safe integers', listPage('9007199254740993'), 'page: must be an integer ≥ 1'),
  bad('page: given twice', listPage('1&page=2'), 'page: must be an integer ≥ 1'),
  bad('create: title is a number', createWorker({ title: 5 }), 'title: must be a string'),
  bad('create: title too long', createWorker({ title: 'x'.repeat(201) }), 'title: must be at most 200 characters'),
  bad('create: unknown visibility', createWorker({ visibility: 'secret' }), 'visibility: must be one of "public", "private"'),
  bad('create: instructions is an array', createWorker({ instructions: ['a'] }), 'instructions: must be a string'),
  bad('create: two wrong fields', createWorker({ title: 1, summary: false }), 'title: must be a string; summary: must be a string'),
  bad('create: body is an array', createWorker([{ title: 'x' }]), 'body: must be a JSON object'),
  bad('create: body is a string', createWorker('title'), 'body: must be a JSON object'),
  bad('create: body is null', createWorker(null), 'body: must be a JSON object'),
  bad('task: missing taskId', recordTask((f) => ({ workerId: f.workerId, status: 'completed' })), 'taskId: is required'),
  bad('task: taskId is a number', recordTask((f) => ({ taskId: 7, workerId: f.workerId, status: 'completed' })), 'taskId: must be a string'),
  bad('task: empty taskId', recordTask((f) => ({ taskId: '', workerId: f.workerId, status: 'completed' })), 'taskId: must not be empty'),
  bad('task: missing workerId', recordTask(() => ({ taskId: 'v-1', status: 'completed' })), 'workerId: is required'),
  bad('task: unknown status', recordTask((f) => ({ taskId: 'v-2', workerId: f.workerId, status: 'done' })), 'status: must be one of "completed", "error", "aborted"'),
  bad('task: missing status', recordTask((f) => ({ taskId: 'v-3', workerId: f.workerId })), 'status: is required'),
  bad(
    'task: completedAt not a date',
    recordTask((f) => ({ taskId: 'v-4', workerId: f.workerId, status: 'error', completedAt: 'yesterday' })),
    'completedAt: must be an ISO 8601 date-time with a time zone, e.g. 2024-01-31T12:00:00Z',
  ),
  bad(
    'task: completedAt without a zone',
    recordTask((f) => ({ taskId: 'v-5', workerId: f.workerId, status: 'error', completedAt: '2024-01-31T12:00:00' })),
    'completedAt: must be an ISO 8601 date-time with a time zone, e.g. 2024-01-31T12:00:00Z',
  ),
  bad('task: title is a number', recordTask((f) => ({ taskId: 'v-6', workerId: f.workerId, status: 'aborted', title: 3 })), 'title: must be a string'),
  bad('task: body is an array', (f) => ['POST', '/api/task-completions', { key: f.serviceKey, json: [] }], 'body: must be a JSON object'),
  bad('malformed JSON (PUT webhook)', rawBody('PUT', (f) => `/api/workers/${f.workerId}/webhook`, '{"url": '), 'body: malformed JSON', 'PARSE_ERROR'),
  bad('malformed JSON (create)', rawBody('POST', () => '/api/workers', 'title=x', { 'content-type': 'application/x-www-form-urlencoded' }), 'body: malformed JSON', 'PARSE_ERROR'),
  bad('malformed JSON (task completion)', (f) => ['POST', '/api/task-completions', { key: f.serviceKey, raw: "{'taskId': 1}", headers: { 'content-type': 'application/json' } }], 'body: malformed JSON', 'PARSE_ERROR'),
  bad('body over 1 MiB (Content-Length)', rawBody('PUT', (f) => `/api/workers/${f.workerId}/webhook`, JSON.stringify({ url: CONFIGURED_URL, pad: 'a'.repeat(MiB) })), 'body: must be at most 1048576 bytes (1 MiB)', 'PAYLOAD_TOO_LARGE', 413),
  bad('body over 1 MiB (chunked, no Content-Length)', rawBody('POST', () => '/api/workers', () => chunkedBody(3 * MiB)), 'body: must be at most 1048576 bytes (1 MiB)', 'PAYLOAD_TOO_LARGE', 413),
  bad('unknown route', (f) => ['GET', '/api/nothing-here', { key: f.userKey }], 'No route for GET /api/nothing-here', 'NOT_FOUND', 404),
  bad('unknown method on a known path', (f) => ['PATCH', `/api/workers/${f.workerId}`, { key: f.userKey, json: { title: 'x' } }], `No route for PATCH /api/workers/${'{id}'}`, 'NOT_FOUND', 404),
  bad('outside /api and /trpc', (f) => ['GET', '/admin', { key: f.userKey }], 'No route for GET /admin', 'NOT_FOUND', 404),
];

/** Runs one refusal and checks the response and that nothing changed. */
async function expectRefused(f: Fixture, refusal: Refusal): Promise<void> {
  const [method, path, options] = refusal.request(f);
  const webhookBefore = await f.api.app.readModels.webhook(f.workerId);
  const headBefore = await f.api.app.log.headPosition();

  const response = await f.api.request(method, path, options);

  expect(response.status).toBe(refusal.status);
  expect(Object.keys(response.body).sort()).toEqual(['code', 'message']);
  expect(response.body.code).toBe(refusal.code);
  const expected = typeof refusal.message === 'string' ? refusal.message.replace('{id}', f.workerId) : refusal.message;
  if (typeof expected === 'string') expect(response.body.message).toBe(expected);
  else expect(response.body.message).toMatch(expected);
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  expect(response.headers.get('x-should-retry')).toBe('false');
  expect(await f.api.app.readModels.webhook(f.workerId)).toEqual(webhookBefore);
  expect(await f.api.app.log.headPosition()).toBe(headBefore);
  const sdkView = await f.api.sdk(f.userKey).workers.webhooks.retrieve(f.workerId);
  expect(sdkView.url).toBe(CONFIGURED_URL);
}

describe.each(TEST_BACKENDS)('%s', (backend) => {
  describe('without --allow-private-network', () => {
    let f: Fixture;
    beforeAll(async () => {
      f = await setUp(backend, false);
    });
    afterAll(() => f?.api.close());

    test.each([...strictRefusals, ...alwaysRefused])('$name → $status', (refusal) => expectRefused(f, refusal));

    test('unknown fields are ignored', async () => {
      const created = await f.api.request('POST', '/api/workers', { key: f.userKey, json: { title: 'extra', prompt: 'p', outputSchema: { type: 'object' }, bogus: [1] } });
      expect(created.status).toBe(200);
      expect(created.body).not.toHaveProperty('bogus');
      expect(created.body.outputSchema).toBeNull();

      const updated = await f.api.request('PUT', `/api/workers/${f.workerId}/webhook`, { key: f.userKey, json: { url: CONFIGURED_URL, token: 'chosen-by-client' } });
      expect(updated.status).toBe(200);
      expect(updated.body.token).not.toBe('chosen-by-client');

      const page = await f.api.request('GET', `/api/workers/${f.workerId}/webhook/executions?page=1&limit=500`, { key: f.userKey });
      expect(page.status).toBe(200);
      expect(page.body).toEqual({ logs: [], page: 1, pageCount: 0, totalCount: 0 });
    });

    test('url null with no webhook configured is accepted and changes nothing', async () => {
      const workerId = (await f.api.sdk(f.userKey).workers.create({})).id;
      const head = await f.api.app.log.headPosition();
      const response = await f.api.request('PUT', `/api/workers/${workerId}/webhook`, { key: f.userKey, json: { url: null } });
      expect(response.status).toBe(200);
      expect(response.body).toEqual(NO_WEBHOOK);
      expect(await f.api.app.log.headPosition()).toBe(head);
    });

    test('a body of exactly 1 MiB is accepted, and any JSON content type or none is read as JSON', async () => {
      const skeleton = JSON.stringify({ title: 'limit', pad: '' });
      const exact = JSON.stringify({ title: 'limit', pad: 'a'.repeat(MiB - Buffer.byteLength(skeleton)) });
      expect(Buffer.byteLength(exact)).toBe(MiB);
      for (const headers of [{ 'content-type': 'application/json; charset=utf-8' }, { 'content-type': 'text/plain' }, {} as Record<string, string>]) {
        const response = await f.api.request('POST', '/api/workers', { key: f.userKey, raw: exact, headers });
        expect(response.status).toBe(200);
        expect(response.body.title).toBe('limit');
      }
    });

    test('the server keeps answering after refusing an oversized chunked body', async () => {
      const refused = await f.api.request('POST', '/api/workers', { key: f.userKey, raw: chunkedBody(8 * MiB), headers: { 'content-type': 'application/json' } });
      expect(refused.status).toBe(413);
      expect((await f.api.request('GET', '/healthz')).status).toBe(200);
    });

    test('tRPC refuses the same input with the same message, in its own envelope', async () => {
      const malformed = await f.api.request('POST', '/trpc/workers.create', { key: f.userKey, raw: '{"title":', headers: { 'content-type': 'application/json' } });
      expect(malformed.status).toBe(400);
      expect(malformed.body.error).toMatchObject({ message: 'body: malformed JSON', data: { code: 'PARSE_ERROR', httpStatus: 400 } });

      const badQuery = await f.api.request('GET', `/trpc/workers.webhooks.listExecutions?input=${encodeURIComponent('{"workerId":')}`, { key: f.userKey });
      expect(badQuery.status).toBe(400);
      expect(badQuery.body.error).toMatchObject({ message: 'input: malformed JSON', data: { code: 'PARSE_ERROR' } });

      const tooLarge = await f.api.request('POST', '/trpc/workers.create', { key: f.userKey, raw: chunkedBody(2 * MiB), headers: { 'content-type': 'application/json' } });
      expect(tooLarge.status).toBe(413);
      expect(tooLarge.body.error).toMatchObject({ data: { code: 'PAYLOAD_TOO_LARGE', httpStatus: 413 } });
      expect(tooLarge.headers.get('x-should-retry')).toBe('false');

      const wrongType = await f.api.request('GET', `/trpc/workers.webhooks.listExecutions?input=${encodeURIComponent(JSON.stringify({ workerId: f.workerId, page: 0 }))}`, { key: f.userKey });
      expect(wrongType.status).toBe(400);
      expect(wrongType.body.error).toMatchObject({ message: 'page: must be an integer ≥ 1', data: { code: 'BAD_REQUEST' } });

      const pageAsString = await f.api.request('GET', `/trpc/workers.webhooks.listExecutions?input=${encodeURIComponent(JSON.stringify({ workerId: f.workerId, page: true }))}`, { key: f.userKey });
      expect(pageAsString.status).toBe(400);
    });
  });

  describe('with --allow-private-network', () => {
    let f: Fixture;
    beforeAll(async () => {
      f = await setUp(backend, true);
    });
    afterAll(() => f?.api.close());

    test.each([
      'http://example.com/hook',
      'http://127.0.0.1:8080/hook',
      'https://[::1]:8443/hook',
      'http://10.0.0.5/hook',
      'http://169.254.169.254/latest',
      'http://localhost:3000/hook',
      'https://100.64.0.1/hook',
    ])('%s is accepted', async (url) => {
      const response = await f.api.request('PUT', `/api/workers/${f.workerId}/webhook`, { key: f.userKey, json: { url } });
      expect(response.status).toBe(200);
      expect(response.body.url).toBe(url);
      await f.api.sdk(f.userKey).workers.webhooks.update(f.workerId, { url: CONFIGURED_URL });
    });

    test.each([
      bad('url: ftp', putUrl('ftp://example.com/hook'), 'url: must use the https or http scheme'),
      ...alwaysRefused,
    ])('$name → $status', (refusal) => expectRefused(f, refusal));
  });
});
