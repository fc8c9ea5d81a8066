import { afterEach, describe, expect, it } from 'vitest';
import { createTestDatabase, runCli, startReceiver, startServerProcess, waitFor, type Receiver, type ServerProcess, type TestDatabase } from '@handinger-webhooks/testing';

/**
 * SPEC §11 with real processes: one PostgreSQL database shared by two
 * `serve` and two `deliver` processes. Completions are POSTed to both API
 * nodes while one `deliver` process is SIGKILLed mid-burst. Every accepted
 * task is delivered, the receiver never has more than the per-origin cap in
 * flight (the cap holds for the cluster, not per process), every request
 * the receiver got is an execution in the log except the ones the killed
 * process had in flight, and both API nodes answer identical pages.
 */

const USER_KEY = 'hwk_cluster_test_user_key_0123456789abcdefghi';
const COMPLETIONS = 2_000;
const PER_ORIGIN_CAP = 16;

let database: TestDatabase | undefined;
let receiver: Receiver | undefined;
const processes: ServerProcess[] = [];
afterEach(async () => {
  await Promise.all(processes.splice(0).map((p) => p.stop('SIGKILL')));
  await receiver?.close();
  await database?.drop();
});

async function call(baseUrl: string, key: string, method: string, path: string, body?: unknown) {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, text: await response.text() };
}

describe('a cluster on one PostgreSQL database', () => {
  it('two serve and two deliver processes deliver every completion once a deliver process is killed, within the per-origin cap', async () => {
    database = await createTestDatabase('postgres');
    const env = { ...database.env, HANDINGER_BOOTSTRAP_KEY: USER_KEY, HANDINGER_RETRY_SCHEDULE: '1s,1s,1s', HANDINGER_DELIVERY_TIMEOUT_MS: '3000' };
    const start = async (args: string[], readyMessage?: string) => {
      const started = await startServerProcess({ args: [...args, '--allow-private-network'], env, ...(readyMessage ? { readyMessage } : {}) });
      processes.push(started);
      return started;
    };
    // Each delivery takes a few milliseconds to answer, so the four delivery loops compete for the origin's slots.
    receiver = await startReceiver(() => ({ status: 200, delayMs: 5 }));
    const [apiA, apiB] = [await start(['serve', '--port', '0']), await start(['serve', '--port', '0'])];
    const [deliverA] = [await start(['deliver'], 'delivering'), await start(['deliver'], 'delivering')];
    const service = (await runCli(['keys', 'create', '--service', '--name', 'runner'], { env })).stdout.trim();
    const worker = JSON.parse((await call(apiA.baseUrl, USER_KEY, 'POST', '/api/workers', { title: 'cluster' })).text);
    expect((await call(apiB.baseUrl, USER_KEY, 'PUT', `/api/workers/${worker.id}/webhook`, { url: `${receiver.url}/hook` })).status).toBe(200);

    const accepted = new Set<string>();
    const taskIds = Array.from({ length: COMPLETIONS }, (_, i) => `task_${String(i).padStart(4, '0')}`);
    const post = async (taskId: string, i: number) => {
      const node = i % 2 === 0 ? apiA : apiB;
      const response = await call(node.baseUrl, service, 'POST', '/api/task-completions', { taskId, workerId: worker.id, status: 'completed', output: { i } });
      if (response.status === 202) accepted.add(taskId);
    };
    let receivedAtKill = 0;
    const killed = receiver.waitForRequests(400, 60_000).then(() => {
      receivedAtKill = receiver!.requests.length;
      deliverA!.child.kill('SIGKILL');
    });
    for (let i = 0; i < taskIds.length; i += 25) await Promise.all(taskIds.slice(i, i + 25).map((id, k) => post(id, i + k)));
    await killed;
    expect(accepted.size).toBe(COMPLETIONS);
    expect(receivedAtKill).toBeLessThan(COMPLETIONS); // the kill came mid-burst

    const taskIdOf = (body: string) => (JSON.parse(body) as { data: { taskId: string } }).data.taskId;
    await waitFor(() => new Set(receiver!.requests.map((r) => taskIdOf(r.body))).size === COMPLETIONS, { timeoutMs: 120_000, message: 'not every task was delivered' });

    const pagesOf = async (baseUrl: string) => {
      const first = JSON.parse((await call(baseUrl, USER_KEY, 'GET', `/api/workers/${worker.id}/webhook/executions`)).text);
      const texts = [JSON.stringify(first)];
      for (let page = 2; page <= first.pageCount; page++) texts.push((await call(baseUrl, USER_KEY, 'GET', `/api/workers/${worker.id}/webhook/executions?page=${page}`)).text);
      return { totalCount: first.totalCount as number, texts, logs: texts.flatMap((t) => JSON.parse(t).logs as { taskId: string; requestStatus: string }[]) };
    };
    // Wait until every delivery is recorded as a success.
    const recorded = await waitFor(async () => {
      const pages = await pagesOf(apiA.baseUrl);
      return new Set(pages.logs.filter((l) => l.requestStatus === 'success').map((l) => l.taskId)).size === COMPLETIONS && pages;
    }, { timeoutMs: 120_000, message: 'not every delivery was recorded' });

    expect(receiver.maxInFlight()).toBeLessThanOrEqual(PER_ORIGIN_CAP);
    // Every request is an execution, but those the killed process had sent and not yet recorded: at most the
    // cap on the wire plus the cap answered and waiting for its batch to be recorded (README: "Every send is an execution").
    const lostToTheKill = receiver.requests.length - recorded.totalCount;
    expect(lostToTheKill).toBeGreaterThanOrEqual(0);
    expect(lostToTheKill).toBeLessThanOrEqual(2 * PER_ORIGIN_CAP);
    // One webhook-id per task, whoever sent it.
    const idsPerTask = new Map<string, Set<string>>();
    for (const r of receiver.requests) idsPerTask.set(taskIdOf(r.body), (idsPerTask.get(taskIdOf(r.body)) ?? new Set()).add(String(r.headers['webhook-id'])));
    expect([...idsPerTask.values()].every((ids) => ids.size === 1)).toBe(true);
    // Both API nodes answer the same pages, byte for byte.
    expect((await pagesOf(apiB.baseUrl)).texts).toEqual(recorded.texts);

    console.info(
      `cluster test: ${COMPLETIONS} completions on 2 API nodes, ${receivedAtKill} requests before a deliver process was killed; ` +
        `${receiver.requests.length} requests, ${recorded.totalCount} executions (${lostToTheKill} lost to the kill), at most ${receiver.maxInFlight()} in flight to the origin`,
    );
  }, 240_000);
});
