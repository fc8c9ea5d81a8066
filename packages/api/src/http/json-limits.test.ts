import { streams } from '@handinger-webhooks/contracts';
import { TEST_BACKENDS } from '@handinger-webhooks/testing';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestApi, type TestApi } from '../test-support/api-server.js';
import { MAX_JSON_DEPTH } from './json-depth.js';
import { MAX_BATCH_CALLS } from './trpc.js';

/**
 * SPEC §3's structural limits on every JSON body: nesting depth (the body
 * is level 1; 64 accepted, 65 refused) and tRPC batch size (50 calls), on
 * REST, tRPC and batched tRPC. A refusal is a 400 naming the limit, and
 * nothing is recorded.
 */

/** A JSON value nesting `levels` arrays: `[[…1…]]`. */
const nestedArrays = (levels: number): string => '['.repeat(levels) + '1' + ']'.repeat(levels);
const DEPTH_MESSAGE = `body: JSON must not be nested deeper than ${MAX_JSON_DEPTH} levels`;

describe.each(TEST_BACKENDS)('%s', (backend) => {
  let api: TestApi;
  let userKey: string;
  let serviceKey: string;
  let workerId: string;

  beforeAll(async () => {
    api = await startTestApi({ backend });
    userKey = await api.userKey('org_limits', 'user_1');
    serviceKey = await api.serviceKey();
    workerId = (await api.sdk(userKey).workers.create({ title: 'limits' })).id;
  });
  afterAll(() => api?.close());

  /** A task completion body whose `output` makes the whole body `levels` deep (the body is level 1). */
  const completionText = (taskId: string, levels: number): string =>
    `{"taskId":"${taskId}","workerId":"${workerId}","status":"completed","output":${nestedArrays(levels - 1)}}`;

  const post = (path: string, key: string, raw: string) => api.request('POST', path, { key, raw, headers: { 'content-type': 'application/json' } });

  describe('JSON nesting depth', () => {
    test('REST: a completion 5,000 levels deep is a 400 naming the limit, and nothing is recorded', async () => {
      const head = await api.app.log.headPosition();
      const response = await post('/api/task-completions', serviceKey, completionText('deep-rest', 5_000));
      expect(response.status).toBe(400);
      expect(response.body).toEqual({ code: 'BAD_REQUEST', message: DEPTH_MESSAGE });
      expect(await api.app.log.headPosition()).toBe(head);
    });

    test('REST: 65 levels are refused, 64 are accepted and delivered intact', async () => {
      expect((await post('/api/task-completions', serviceKey, completionText('depth-65', MAX_JSON_DEPTH + 1))).status).toBe(400);
      const accepted = await post('/api/task-completions', serviceKey, completionText('depth-64', MAX_JSON_DEPTH));
      expect(accepted.status).toBe(202);
      const [event] = await api.app.log.stream<{ type: string; data: { output: unknown } }>(streams.task('depth-64'));
      expect(JSON.stringify(event!.data.output)).toBe(nestedArrays(MAX_JSON_DEPTH - 1));
    });

    test('REST: every body is checked, not only completions', async () => {
      const deepPut = `{"url":"https://example.com/a","extra":${nestedArrays(200)}}`;
      const response = await api.request('PUT', `/api/workers/${workerId}/webhook`, { key: userKey, raw: deepPut, headers: { 'content-type': 'application/json' } });
      expect(response).toMatchObject({ status: 400, body: { code: 'BAD_REQUEST', message: DEPTH_MESSAGE } });
      expect(await api.app.readModels.webhook(workerId)).toBeUndefined();
    });

    test('tRPC: a single call, a batched call and a GET input are refused the same way', async () => {
      const head = await api.app.log.headPosition();
      const single = await post('/trpc/taskCompletions.record', serviceKey, completionText('deep-trpc', 5_000));
      expect(single.status).toBe(400);
      expect(single.body.error).toMatchObject({ message: DEPTH_MESSAGE, data: { code: 'BAD_REQUEST', httpStatus: 400 } });

      const batched = await post('/trpc/taskCompletions.record?batch=1', serviceKey, `{"0":${completionText('deep-batch', 5_000)}}`);
      expect(batched.status).toBe(400);
      expect(JSON.stringify(batched.body)).toContain(DEPTH_MESSAGE);

      const input = encodeURIComponent(`{"workerId":"${workerId}","x":${nestedArrays(100)}}`);
      const get = await api.request('GET', `/trpc/workers.webhooks.listExecutions?input=${input}`, { key: userKey });
      expect(get.status).toBe(400);
      expect(get.body.error).toMatchObject({ message: `input: JSON must not be nested deeper than ${MAX_JSON_DEPTH} levels` });
      expect(await api.app.log.headPosition()).toBe(head);
    });
  });

  describe('tRPC batch size', () => {
    const batchOf = (count: number) => {
      const paths = Array.from({ length: count }, () => 'workers.create').join(',');
      const body = JSON.stringify(Object.fromEntries(Array.from({ length: count }, (_, i) => [String(i), { title: `batch ${i}` }])));
      return { path: `/trpc/${paths}?batch=1`, body };
    };

    test(`${MAX_BATCH_CALLS + 1} calls are a 400 and none of them runs`, async () => {
      const head = await api.app.log.headPosition();
      const { path, body } = batchOf(MAX_BATCH_CALLS + 1);
      const response = await post(path, userKey, body);
      expect(response.status).toBe(400);
      expect(JSON.stringify(response.body)).toContain(`batch: must hold at most ${MAX_BATCH_CALLS} calls, got ${MAX_BATCH_CALLS + 1}`);
      expect(await api.app.log.headPosition()).toBe(head);
    });

    test(`${MAX_BATCH_CALLS} calls run`, async () => {
      const { path, body } = batchOf(MAX_BATCH_CALLS);
      const response = await post(path, userKey, body);
      expect(response.status).toBe(200);
      expect(response.body).toHaveLength(MAX_BATCH_CALLS);
      expect(response.body.every((item: { result?: unknown }) => item.result !== undefined)).toBe(true);
    });

    test('a percent-encoded comma counts as a separator, as tRPC reads it', async () => {
      const head = await api.app.log.headPosition();
      const { body } = batchOf(MAX_BATCH_CALLS + 1);
      const encodedPath = `/trpc/${Array.from({ length: MAX_BATCH_CALLS + 1 }, () => 'workers.create').join('%2C')}?batch=1`;
      expect((await post(encodedPath, userKey, body)).status).toBe(400);
      expect(await api.app.log.headPosition()).toBe(head);
    });
  });
});
