import { afterEach, describe, expect, it } from 'vitest';
import { TEST_BACKENDS, callApi, createTestDatabase, runCli, startReceiver, startServerProcess, waitFor, type Receiver, type ServerProcess, type TestDatabase } from '@handinger-webhooks/testing';

/**
 * SPEC §8 across a SIGKILL, with real server processes: a recovery killed
 * mid-way resumes after the restart and sends every selected notification
 * (once, but for what was on the wire at the kill), and held notifications
 * survive a restart and go out oldest first on enable.
 */

const USER_KEY = 'hwk_operations_crash_user_key_0123456789abcd';
const PER_ORIGIN_CAP = 16;

let database: TestDatabase | undefined;
let receiver: Receiver | undefined;
const servers: ServerProcess[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop('SIGKILL')));
  await receiver?.close();
  await database?.drop();
  database = undefined;
});


const taskOf = (body: string): string => JSON.parse(body).data.taskId;

describe.each(TEST_BACKENDS)('operations across a crash on %s', (backend) => {
  const start = async (env: Record<string, string>) => {
    const server = await startServerProcess({ args: ['serve', '--port', '0', '--allow-private-network'], env });
    servers.push(server);
    return server;
  };

  it('a recovery killed mid-way resumes after the restart and sends every selected notification', async () => {
    database = await createTestDatabase(backend);
    const env = { ...database.env, HANDINGER_BOOTSTRAP_KEY: USER_KEY, HANDINGER_RETRY_SCHEDULE: '10ms', HANDINGER_DELIVERY_TIMEOUT_MS: '3000' };
    let up = false;
    // Down first (every notification exhausts its two attempts), then up and slow, so the recovery is still sending at the kill.
    receiver = await startReceiver(() => (up ? { status: 200, delayMs: 20 } : { status: 500 }));
    let server = await start(env);
    const service = (await runCli(['keys', 'create', '--service', '--name', 'runner'], { env })).stdout.trim();
    const worker = (await callApi(server.baseUrl, USER_KEY, 'POST', '/api/workers', { title: 'recover' })).body;
    await callApi(server.baseUrl, USER_KEY, 'PUT', `/api/workers/${worker.id}/webhook`, { url: `${receiver.url}/hook` });
    const since = new Date(Date.now() - 1_000).toISOString();
    const tasks = Array.from({ length: 600 }, (_, i) => `crash_rec_${String(i).padStart(4, '0')}`);
    for (let i = 0; i < tasks.length; i += 50) {
      await Promise.all(tasks.slice(i, i + 50).map((taskId) => callApi(server.baseUrl, service, 'POST', '/api/task-completions', { taskId, workerId: worker.id, status: 'completed' })));
    }
    await waitFor(async () => (await callApi(server.baseUrl, USER_KEY, 'GET', `/api/workers/${worker.id}/webhook/executions`)).body.totalCount === 2 * tasks.length, {
      timeoutMs: 60_000,
      message: 'not every notification failed twice',
    });
    const failedRequests = receiver.requests.length;
    up = true;

    const started = await callApi(server.baseUrl, USER_KEY, 'POST', `/api/workers/${worker.id}/webhook/recover`, { since });
    expect(started.status).toBe(202);
    expect(started.body.total).toBe(tasks.length);
    await receiver.waitForRequests(failedRequests + 50, 60_000);
    expect(await server.stop('SIGKILL')).toBe('SIGKILL');
    const receivedAtKill = receiver.requests.length - failedRequests;
    expect(receivedAtKill).toBeLessThan(tasks.length); // the kill came mid-way

    server = await start(env);
    const done = await waitFor(
      async () => {
        const progress = (await callApi(server.baseUrl, USER_KEY, 'GET', `/api/workers/${worker.id}/webhook/recoveries/${started.body.id}`)).body;
        return progress.status === 'completed' && progress;
      },
      { timeoutMs: 120_000, message: 'the recovery did not complete after the restart' },
    );
    expect(done).toMatchObject({ total: tasks.length, sent: tasks.length });
    const recovered = receiver.requests.slice(failedRequests);
    const perTask = new Map<string, number>();
    for (const request of recovered) perTask.set(taskOf(request.body), (perTask.get(taskOf(request.body)) ?? 0) + 1);
    expect([...perTask.keys()].sort()).toEqual(tasks);
    // Sent twice only if it was on the wire, or answered and not yet recorded, at the kill.
    const twice = [...perTask.values()].filter((n) => n > 1).length;
    expect(twice).toBeLessThanOrEqual(2 * PER_ORIGIN_CAP);
    expect(Math.max(...perTask.values())).toBeLessThanOrEqual(2);
    console.info(`recovery crash test (${backend}): killed after ${receivedAtKill} of ${tasks.length} recovered notifications; ${twice} sent again after the restart`);
  }, 240_000);

  it('held notifications survive a SIGKILL and go out oldest first on enable', async () => {
    database = await createTestDatabase(backend);
    const env = { ...database.env, HANDINGER_BOOTSTRAP_KEY: USER_KEY, HANDINGER_RETRY_SCHEDULE: '50ms' };
    receiver = await startReceiver(() => ({ status: 200 }));
    let server = await start(env);
    const service = (await runCli(['keys', 'create', '--service', '--name', 'runner'], { env })).stdout.trim();
    const worker = (await callApi(server.baseUrl, USER_KEY, 'POST', '/api/workers', { title: 'held' })).body;
    await callApi(server.baseUrl, USER_KEY, 'PUT', `/api/workers/${worker.id}/webhook`, { url: `${receiver.url}/hook` });
    await callApi(server.baseUrl, USER_KEY, 'POST', `/api/workers/${worker.id}/webhook/disable`);
    const tasks = ['held_a', 'held_b', 'held_c', 'held_d', 'held_e'];
    for (const taskId of tasks) expect((await callApi(server.baseUrl, service, 'POST', '/api/task-completions', { taskId, workerId: worker.id, status: 'completed' })).status).toBe(202);
    expect(await server.stop('SIGKILL')).toBe('SIGKILL');

    server = await start(env);
    const webhook = (await callApi(server.baseUrl, USER_KEY, 'GET', `/api/workers/${worker.id}/webhook`)).body;
    expect(webhook).toMatchObject({ status: 'disabled', disabledReason: 'manual', heldNotifications: tasks.length });
    expect(receiver.requests).toHaveLength(0);
    expect((await runCli(['rebuild-projections', '--verify'], { env })).status).toBe(0);
    await callApi(server.baseUrl, USER_KEY, 'POST', `/api/workers/${worker.id}/webhook/enable`);
    const sent = await receiver.waitForRequests(tasks.length, 30_000);
    expect(sent.map((r) => taskOf(r.body))).toEqual(tasks);
  }, 120_000);
});
