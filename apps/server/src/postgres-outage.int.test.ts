import { afterEach, describe, expect, it } from 'vitest';
import { TEST_SECRET_KEY, runCli, startPostgres, startReceiver, startServerProcess, waitFor, type PostgresServer, type Receiver, type ServerProcess } from '@handinger-webhooks/testing';

/**
 * SPEC §7 and §11 when PostgreSQL goes away under a running server: requests
 * that need it get 503 with Retry-After (never a crash), liveness stays up,
 * and when the database returns the server recovers by itself, losing
 * nothing it acknowledged. A server started while the database is down
 * stops with one clear line. The test has a PostgreSQL server of its own,
 * since it takes it down.
 */

const USER_KEY = 'hwk_postgres_outage_key_0123456789abcdefghijk';

let postgres: PostgresServer | undefined;
let receiver: Receiver | undefined;
let server: ServerProcess | undefined;
afterEach(async () => {
  await server?.stop('SIGKILL');
  await receiver?.close();
  await postgres?.stop();
  server = receiver = postgres = undefined;
});

async function call(key: string, method: string, path: string, body?: unknown) {
  const response = await fetch(`${server!.baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as any };
}

describe('PostgreSQL going away', () => {
  it('is a 503 while it is gone, and the server recovers by itself when it is back, losing nothing acknowledged', async () => {
    // Durable commits: the outage is a crash (an immediate stop), and an acknowledged completion must survive it.
    postgres = await startPostgres({ port: 54410, settings: { fsync: true, synchronous_commit: true } });
    const url = (await postgres.createDatabase('outage')).replace('postgres@', 'postgres:not-shown-anywhere@');
    const env = { HANDINGER_DB_PATH: url, HANDINGER_SECRET_KEY: TEST_SECRET_KEY, HANDINGER_BOOTSTRAP_KEY: USER_KEY, HANDINGER_RETRY_SCHEDULE: '500ms,500ms,500ms,500ms' };
    receiver = await startReceiver();
    server = await startServerProcess({ args: ['serve', '--port', '0', '--allow-private-network'], env });
    const service = (await runCli(['keys', 'create', '--service', '--name', 'runner'], { env })).stdout.trim();
    const worker = (await call(USER_KEY, 'POST', '/api/workers', { title: 'outage' })).body;
    expect((await call(USER_KEY, 'PUT', `/api/workers/${worker.id}/webhook`, { url: `${receiver.url}/hook` })).status).toBe(200);
    const accepted: string[] = [];
    const complete = async (taskId: string) => {
      const response = await call(service, 'POST', '/api/task-completions', { taskId, workerId: worker.id, status: 'completed' });
      if (response.status === 202) accepted.push(taskId);
      return response;
    };
    expect((await complete('before')).status).toBe(202);
    await receiver.waitForRequests(1);

    await postgres.pause();
    const refused = await complete('while-down');
    expect(refused.status).toBe(503);
    expect(refused.body).toEqual({ code: 'SERVICE_UNAVAILABLE', message: 'storage is unreachable: nothing was recorded; retry later' });
    expect(refused.headers.get('retry-after')).toBe('5');
    for (let i = 0; i < 5; i++) expect((await complete(`while-down-${i}`)).status).toBe(503);
    expect((await call(USER_KEY, 'GET', `/api/workers/${worker.id}/webhook/executions`)).status).toBe(503);
    expect((await fetch(`${server.baseUrl}/healthz`)).status).toBe(200);
    expect(server.child.exitCode).toBeNull();

    await postgres.resume();
    // The pool reconnects on its own: the first requests after the return may still meet a dead connection.
    await waitFor(async () => (await complete('after')).status === 202, { timeoutMs: 30_000, message: 'the server did not recover' });
    const delivered = () => new Set(receiver!.requests.map((r) => JSON.parse(r.body).data.taskId as string));
    await waitFor(() => accepted.every((taskId) => delivered().has(taskId)), { timeoutMs: 30_000, message: 'an acknowledged completion was not delivered' });
    expect([...delivered()].some((taskId) => taskId.startsWith('while-down'))).toBe(false);
    // The outage was logged, never with the password.
    expect(server.logs.some((line) => line.msg === 'storage unavailable: refusing writes with 503')).toBe(true);
    expect(JSON.stringify(server.logs) + server.stderr()).not.toContain('not-shown-anywhere');
  }, 120_000);

  it('at start, an unreachable database is one line without the password, and a non-zero exit', async () => {
    postgres = await startPostgres({ port: 54411 });
    const url = (await postgres.createDatabase('down')).replace('postgres@', 'postgres:not-shown-anywhere@');
    await postgres.pause();
    for (const args of [['serve', '--port', '0'], ['deliver'], ['keys', 'list'], ['rebuild-projections'], ['export-log']]) {
      const result = await runCli(args, { env: { HANDINGER_DB_PATH: url, HANDINGER_SECRET_KEY: TEST_SECRET_KEY } });
      expect(result.status, args.join(' ')).toBe(1);
      const lines = result.stderr.trimEnd().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^handinger-webhooks: cannot connect to PostgreSQL at postgres:\/\/postgres:\*\*\*@localhost:54411\/down\?host=.*: /);
      expect(result.stderr + result.stdout).not.toContain('not-shown-anywhere');
    }
    // Reachable, but without HANDINGER_SECRET_KEY (PostgreSQL has no key file): one line naming the variable.
    await postgres.resume();
    const noKey = await runCli(['keys', 'list'], { env: { HANDINGER_DB_PATH: url, HANDINGER_SECRET_KEY: '' } });
    expect(noKey.status).toBe(1);
    expect(noKey.stderr).toMatch(/^handinger-webhooks: HANDINGER_SECRET_KEY is required with this database \(it has no key file\)/);
  }, 120_000);
});
