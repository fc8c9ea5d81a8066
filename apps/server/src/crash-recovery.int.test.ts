import { afterEach, describe, expect, it } from 'vitest';
import { TEST_BACKENDS, callApi, createTestDatabase, runCli, startReceiver, startServerProcess, waitFor, type Receiver, type ServerProcess, type TestDatabase } from '@handinger-webhooks/testing';

const USER_KEY = 'hwk_crash_test_user_key_0123456789abcdefghijk';
const COMPLETIONS = 300;

let database: TestDatabase | undefined;
let receiver: Receiver | undefined;
const servers: ServerProcess[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop('SIGKILL')));
  await receiver?.close();
  await database?.drop();
  database = undefined;
});


describe.each(TEST_BACKENDS)('at-least-once delivery across a crash on %s', (backend) => {
  it('a server killed with SIGKILL mid-burst delivers every accepted completion after a restart, and its log agrees with the receiver', async () => {
    database = await createTestDatabase(backend);
    const env = {
      ...database.env,
      HANDINGER_BOOTSTRAP_KEY: USER_KEY,
      HANDINGER_RETRY_SCHEDULE: '500ms,500ms,500ms',
      HANDINGER_DELIVERY_TIMEOUT_MS: '2000',
    };
    const start = async () => {
      const server = await startServerProcess({ args: ['serve', '--port', '0', '--allow-private-network'], env });
      servers.push(server);
      return server;
    };
    // A slow receiver: each delivery takes 150 ms to answer, so the burst is still in flight when the kill comes.
    receiver = await startReceiver(() => ({ status: 200, delayMs: 150 }));
    let server = await start();
    const serviceKey = (await runCli(['keys', 'create', '--service', '--name', 'runner'], { env })).stdout.trim();
    const worker = (await callApi(server.baseUrl, USER_KEY, 'POST', '/api/workers', { title: 'burst' })).body;
    expect((await callApi(server.baseUrl, USER_KEY, 'PUT', `/api/workers/${worker.id}/webhook`, { url: `${receiver.url}/hook` })).status).toBe(200);

    // The burst: 300 completions, 20 at a time; SIGKILL once the receiver has seen 60 deliveries.
    const accepted = new Set<string>();
    const pending = Array.from({ length: COMPLETIONS }, (_, i) => `task_${String(i).padStart(3, '0')}`);
    const record = async (baseUrl: string, taskId: string) => {
      try {
        const { status } = await callApi(baseUrl, serviceKey, 'POST', '/api/task-completions', { taskId, workerId: worker.id, status: 'completed', output: { i: taskId } });
        if (status === 202) accepted.add(taskId);
      } catch {
        // connection reset by the kill: not accepted, the runner will send it again
      }
    };
    const killed = receiver.waitForRequests(60).then(() => server.child.kill('SIGKILL'));
    const burst = (async () => {
      for (let i = 0; i < pending.length; i += 20) await Promise.all(pending.slice(i, i + 20).map((id) => record(server.baseUrl, id)));
    })();
    await Promise.all([killed, burst]);
    await waitFor(() => server.child.signalCode === 'SIGKILL');
    const acceptedBeforeCrash = accepted.size;
    const receivedBeforeCrash = receiver.requests.length;
    expect(receivedBeforeCrash).toBeLessThan(COMPLETIONS); // the kill really came mid-burst

    // Restart on the same database; the task runner re-sends what it could not get acknowledged.
    server = await start();
    const missing = pending.filter((id) => !accepted.has(id));
    await Promise.all(missing.map((id) => record(server.baseUrl, id)));
    expect(accepted.size).toBe(COMPLETIONS);

    // Every taskId reaches the receiver at least once…
    const taskIdOf = (body: string) => (JSON.parse(body) as { data: { taskId: string } }).data.taskId;
    await waitFor(() => new Set(receiver!.requests.map((r) => taskIdOf(r.body))).size === COMPLETIONS, { timeoutMs: 60_000, message: 'not every task was delivered' });

    // …and once every delivery is recorded, the execution log agrees with what the receiver saw.
    const allExecutions = async () => {
      const first = (await callApi(server.baseUrl, USER_KEY, 'GET', `/api/workers/${worker.id}/webhook/executions`)).body;
      const pages = await Promise.all(
        Array.from({ length: Math.max(0, first.pageCount - 1) }, (_, i) => callApi(server.baseUrl, USER_KEY, 'GET', `/api/workers/${worker.id}/webhook/executions?page=${i + 2}`)),
      );
      return [first, ...pages.map((p) => p.body)].flatMap((page) => page.logs) as { id: string; taskId: string; requestStatus: string; responseStatus: number }[];
    };
    const executions = await waitFor(async () => {
      const logs = await allExecutions();
      return new Set(logs.filter((l) => l.requestStatus === 'success').map((l) => l.taskId)).size === COMPLETIONS && logs;
    }, { timeoutMs: 60_000, message: 'not every delivery was recorded' });

    const successes = executions.filter((e) => e.requestStatus === 'success');
    expect(successes).toHaveLength(COMPLETIONS); // one success per task: no attempt recorded twice
    expect(new Set(executions.map((e) => e.id)).size).toBe(executions.length);
    const receivedTaskIds = receiver.requests.map((r) => taskIdOf(r.body));
    expect(new Set(receivedTaskIds)).toEqual(new Set(successes.map((e) => e.taskId)));
    // Each notification kept one webhook-id across its re-sends.
    const idsPerTask = new Map<string, Set<string>>();
    for (const r of receiver.requests) idsPerTask.set(taskIdOf(r.body), (idsPerTask.get(taskIdOf(r.body)) ?? new Set()).add(String(r.headers['webhook-id'])));
    expect([...idsPerTask.values()].every((ids) => ids.size === 1)).toBe(true);
    // The receiver saw every recorded attempt; the extra ones are attempts the crash interrupted before they were recorded.
    const reSent = receivedTaskIds.length - executions.length;
    expect(reSent).toBeGreaterThanOrEqual(0);
    // Sent and not yet recorded stays within twice the per-origin cap (16), on the wire or answered (README).
    expect(reSent).toBeLessThanOrEqual(2 * 16);

    console.info(
      `crash test (${backend}): ${acceptedBeforeCrash} completions accepted and ${receivedBeforeCrash} deliveries received before SIGKILL; ` +
        `after restart ${receivedTaskIds.length} requests for ${COMPLETIONS} tasks, ${executions.length} executions recorded, ${reSent} re-sent after the crash`,
    );
  }, 120_000);
});
