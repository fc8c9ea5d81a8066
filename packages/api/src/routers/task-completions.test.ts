import { streams, type TaskCompleted } from '@handinger-webhooks/contracts';
import { TEST_BACKENDS } from '@handinger-webhooks/testing';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestApi, trpcOutcome, unknownWorkerId, type TestApi } from '../test-support/api-server.js';

describe.each(TEST_BACKENDS)('%s', (backend) => {
  let api: TestApi;
  let userKey: string;
  let serviceKey: string;

  beforeAll(async () => {
    api = await startTestApi({ backend });
    userKey = await api.userKey('org_tasks', 'user_1');
    serviceKey = await api.serviceKey();
  });
  afterAll(() => api?.close());

  const newWorker = async () => (await api.sdk(userKey).workers.create({ title: 'tasks' })).id;
  const record = (body: unknown) => api.request('POST', '/api/task-completions', { key: serviceKey, json: body });
  const recorded = (taskId: string) => api.app.log.stream<TaskCompleted>(streams.task(taskId));

  describe('POST /api/task-completions', () => {
    test('202 accepted; a repeat is accepted as a duplicate and records nothing', async () => {
      const workerId = await newWorker();
      const body = { taskId: 'task-1', workerId, title: 'Summarise', status: 'completed', output: { text: 'done' } };

      const first = await record(body);
      expect(first.status).toBe(202);
      expect(first.body).toEqual({ accepted: true, duplicate: false });
      expect(await recorded('task-1')).toHaveLength(1);

      const head = await api.app.log.headPosition();
      const repeat = await record(body);
      expect(repeat.status).toBe(202);
      expect(repeat.body).toEqual({ accepted: true, duplicate: true });
      expect(await api.app.log.headPosition()).toBe(head);
    });

    test('the same taskId for another worker is a 409', async () => {
      const [a, b] = [await newWorker(), await newWorker()];
      expect((await record({ taskId: 'task-shared', workerId: a, status: 'error' })).status).toBe(202);
      const head = await api.app.log.headPosition();
      const conflict = await record({ taskId: 'task-shared', workerId: b, status: 'error' });
      expect(conflict.status).toBe(409);
      expect(conflict.body).toEqual({ code: 'CONFLICT', message: 'task task-shared was already recorded for another worker' });
      expect(conflict.headers.get('x-should-retry')).toBe('false');
      expect(await api.app.log.headPosition()).toBe(head);
    });

    test.each([
      ['unknown', async () => unknownWorkerId('org_tasks')],
      ['malformed', async () => 'worker-42'],
      ['deleted', async () => {
        const id = await newWorker();
        await api.sdk(userKey).workers.delete(id);
        return id;
      }],
    ])('an %s worker is a 404 and nothing is recorded', async (_name, workerIdOf) => {
      const workerId = await workerIdOf();
      const head = await api.app.log.headPosition();
      const response = await record({ taskId: `task-${workerId}`, workerId, status: 'aborted' });
      expect(response.status).toBe(404);
      expect(response.body).toEqual({ code: 'NOT_FOUND', message: expect.stringContaining('not found') });
      expect(await api.app.log.headPosition()).toBe(head);
      expect(await recorded(`task-${workerId}`)).toEqual([]);
    });

    test('completedAt is normalised to UTC with milliseconds, and defaults to the time of recording', async () => {
      const workerId = await newWorker();
      expect((await record({ taskId: 'task-zoned', workerId, status: 'completed', completedAt: '2024-05-06T09:08:07+02:00' })).status).toBe(202);
      expect((await recorded('task-zoned'))[0]!.data.completedAt).toBe('2024-05-06T07:08:07.000Z');

      const before = Date.now();
      expect((await record({ taskId: 'task-now', workerId, status: 'completed' })).status).toBe(202);
      const event = (await recorded('task-now'))[0]!;
      expect(event.data.completedAt).toBe(event.data.recordedAt);
      expect(Date.parse(event.data.completedAt)).toBeGreaterThanOrEqual(before - 1000);
    });

    test('recorded through the typed client with the same results', async () => {
      const workerId = await newWorker();
      const trpc = api.trpc(serviceKey);
      expect(await trpc.taskCompletions.record.mutate({ taskId: 'task-trpc', workerId, status: 'completed' })).toEqual({ accepted: true, duplicate: false });
      expect(await trpc.taskCompletions.record.mutate({ taskId: 'task-trpc', workerId, status: 'completed' })).toEqual({ accepted: true, duplicate: true });
      const otherWorkerId = await newWorker();
      expect(await trpcOutcome(() => trpc.taskCompletions.record.mutate({ taskId: 'task-trpc', workerId: otherWorkerId, status: 'completed' }))).toEqual({
        status: 409,
        code: 'CONFLICT',
        message: 'task task-trpc was already recorded for another worker',
      });
      expect(await trpcOutcome(() => trpc.taskCompletions.record.mutate({ taskId: 'task-none', workerId: unknownWorkerId('org_tasks'), status: 'completed' }))).toMatchObject({
        status: 404,
        code: 'NOT_FOUND',
      });
    });
  });
});
