import { readFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { TEST_BACKENDS, createTempDir, createTestDatabase, runCli, startReceiver, startServerProcess, type ServerProcess, type TestDatabase } from '@handinger-webhooks/testing';
import { VERSION } from './version.js';

const dirs: ReturnType<typeof createTempDir>[] = [];
const servers: ServerProcess[] = [];
const databases: TestDatabase[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop('SIGKILL')));
  dirs.splice(0).forEach((d) => d.remove());
  for (const d of databases.splice(0)) await d.drop();
});

function tempDb(): string {
  const dir = createTempDir();
  dirs.push(dir);
  return dir.file('data/handinger.db');
}

async function serve(db: string, env: Record<string, string> = {}): Promise<ServerProcess> {
  const server = await startServerProcess({ args: ['serve', '--port', '0', '--db', db, '--allow-private-network'], env });
  servers.push(server);
  return server;
}

const BOOTSTRAP = 'hwk_test_bootstrap_key_0123456789abcdefghij';

async function api(server: ServerProcess, key: string, method: string, path: string, body?: unknown) {
  const response = await fetch(`${server.baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

describe('handinger-webhooks CLI', () => {
  it('prints help, its version, and refuses unknown commands and flags with status 2', async () => {
    const help = await runCli(['--help']);
    expect(help.status).toBe(0);
    for (const command of ['serve', 'deliver', 'keys create', 'keys list', 'keys revoke', 'rebuild-projections']) {
      expect(help.stdout).toContain(command);
    }
    const version = await runCli(['--version']);
    expect(version).toMatchObject({ status: 0, stdout: `${VERSION}\n` });
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    expect(VERSION).toBe(pkg.version);
    expect(await runCli(['launch'])).toMatchObject({ status: 2, stderr: expect.stringContaining('unknown command "launch"') });
    expect(await runCli(['keys', 'list', '--colour'])).toMatchObject({ status: 2, stderr: expect.stringContaining('--colour') });
  });

  it('creates, lists and revokes keys; the list never shows a key or its hash', async () => {
    const db = tempDb();
    const user = await runCli(['keys', 'create', '--org', 'org_1', '--user', 'user_1', '--name', 'laptop', '--db', db]);
    expect(user.status).toBe(0);
    expect(user.stdout).toMatch(/^hwk_[A-Za-z0-9_-]{43}\n$/);
    const service = await runCli(['keys', 'create', '--service', '--name', 'runner'], { env: { HANDINGER_DB_PATH: db } });
    expect(service.stdout).toMatch(/^hwk_[A-Za-z0-9_-]{43}\n$/);

    const list = await runCli(['keys', 'list', '--db', db]);
    const lines = list.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^key_[0-9A-Z]{26}\tuser\torg_1\tuser_1\tlaptop\tcreated=\S+Z\tactive$/);
    expect(lines[1]).toMatch(/^key_[0-9A-Z]{26}\tservice\t-\t-\trunner\tcreated=\S+Z\tactive$/);
    expect(list.stdout).not.toContain(user.stdout.trim());
    expect(list.stdout).not.toMatch(/[0-9a-f]{64}/);

    const keyId = lines[0]!.split('\t')[0]!;
    expect(await runCli(['keys', 'revoke', keyId, '--db', db])).toMatchObject({ status: 0, stdout: expect.stringContaining(`revoked ${keyId}`) });
    expect((await runCli(['keys', 'list', '--db', db])).stdout.split('\n')[0]).toMatch(/\trevoked=\S+Z$/);
    expect(await runCli(['keys', 'revoke', 'key_01HZY2ZJQ8G7K42W2D7WF6V4GM', '--db', db])).toMatchObject({ status: 1, stderr: expect.stringContaining('no key') });
  });

  it('rejects incomplete key requests with status 2', async () => {
    const db = tempDb();
    expect((await runCli(['keys', 'create', '--org', 'org_1', '--db', db])).status).toBe(2);
    expect((await runCli(['keys', 'create', '--service', '--db', db])).status).toBe(2);
    expect((await runCli(['keys', 'create', '--service', '--name', 'x', '--org', 'o', '--db', db])).status).toBe(2);
    expect((await runCli(['keys', 'create', '--org', 'bad org!', '--user', 'u', '--db', db])).status).toBe(2);
    expect((await runCli(['keys', 'revoke', '--db', db])).status).toBe(2);
  });

  it('refuses bad configuration with status 2 and a message naming the setting', async () => {
    const db = tempDb();
    const bad = await runCli(['serve', '--db', db, '--port', '0'], { env: { HANDINGER_RETRY_SCHEDULE: '5 minutes' } });
    expect(bad).toMatchObject({ status: 2, stderr: expect.stringContaining('HANDINGER_RETRY_SCHEDULE') });
    expect(await runCli(['serve', '--db', db, '--port', '99999'])).toMatchObject({ status: 2, stderr: expect.stringContaining('--port') });
    expect(await runCli(['serve', '--db', db], { env: { HANDINGER_BOOTSTRAP_KEY: 'short' } })).toMatchObject({ status: 2 });
  });
});

describe('handinger-webhooks serve', () => {
  it('prints a first key once, outside the JSON logs, and keeps everything across a restart', async () => {
    const db = tempDb();
    const first = await serve(db);
    const stderr = first.stderr();
    const key = /^\s+(hwk_\S+)$/m.exec(stderr)?.[1];
    expect(key).toBeDefined();
    expect(stderr).toContain(`curl -s -X POST ${first.baseUrl}/api/workers`);
    expect(await (await fetch(`${first.baseUrl}/healthz`)).json()).toEqual({ status: 'ok' });

    const worker = await api(first, key!, 'POST', '/api/workers', { title: 'Claims' });
    expect(worker.status).toBe(200);
    const webhook = await api(first, key!, 'PUT', `/api/workers/${worker.body.id}/webhook`, { url: 'http://127.0.0.1:9/hook' });
    expect(webhook.status).toBe(200);
    expect(await first.stop('SIGTERM')).toBe(0);
    const logs = JSON.stringify(first.logs);
    expect(logs).not.toContain(key);
    expect(logs).not.toContain(webhook.body.token);
    expect(logs).not.toContain(webhook.body.signingSecret);
    expect(first.logs.at(-1)).toMatchObject({ msg: 'stopped' });

    const second = await serve(db);
    expect(second.stderr()).not.toContain('hwk_');
    expect(await api(second, key!, 'GET', `/api/workers/${worker.body.id}/webhook`)).toEqual({ status: 200, body: webhook.body });
  });

  it('registers HANDINGER_BOOTSTRAP_KEY on a new database, and a revoked key fails on the next request', async () => {
    const db = tempDb();
    const server = await serve(db, { HANDINGER_BOOTSTRAP_KEY: BOOTSTRAP });
    expect(server.stderr()).not.toContain('hwk_');
    expect((await api(server, BOOTSTRAP, 'POST', '/api/workers', {})).status).toBe(200);
    const keyId = (await runCli(['keys', 'list', '--db', db])).stdout.split('\t')[0]!;
    expect((await runCli(['keys', 'revoke', keyId, '--db', db])).status).toBe(0);
    expect((await api(server, BOOTSTRAP, 'POST', '/api/workers', {})).status).toBe(401);
  });

  // SPEC §11: every CLI command works against PostgreSQL, the URL given as --db.
  it.each(TEST_BACKENDS)('keys create, list and revoke take --db on %s; a revoked key fails on the next request', async (backend) => {
    const database = await createTestDatabase(backend);
    databases.push(database);
    const secretEnv: Record<string, string> = database.secretKey ? { HANDINGER_SECRET_KEY: database.secretKey } : {};
    const server = await startServerProcess({ args: ['serve', '--port', '0', '--db', database.db], env: { ...secretEnv, HANDINGER_BOOTSTRAP_KEY: BOOTSTRAP } });
    servers.push(server);
    const created = await runCli(['keys', 'create', '--service', '--name', 'runner', '--db', database.db], { env: secretEnv });
    expect(created.status).toBe(0);
    const serviceKey = created.stdout.trim();
    expect(serviceKey).toMatch(/^hwk_/);
    const listed = await runCli(['keys', 'list', '--db', database.db], { env: secretEnv });
    expect(listed.status).toBe(0);
    const runner = listed.stdout.split('\n').find((line) => line.includes('runner'))!;
    expect(runner).toBeDefined();
    const worker = (await api(server, BOOTSTRAP, 'POST', '/api/workers', { title: 'w' })).body;
    const complete = () => api(server, serviceKey, 'POST', '/api/task-completions', { taskId: `task_${Date.now()}`, workerId: worker.id, status: 'completed' });
    expect((await complete()).status).toBe(202);
    expect((await runCli(['keys', 'revoke', runner.split('\t')[0]!, '--db', database.db], { env: secretEnv })).status).toBe(0);
    expect((await complete()).status).toBe(401);
  });

  it('serve --no-delivery runs the API alone; a deliver process on the same database sends', async () => {
    const db = tempDb();
    const receiver = await startReceiver();
    try {
      const server = await startServerProcess({ args: ['serve', '--port', '0', '--db', db, '--allow-private-network', '--no-delivery'], env: { HANDINGER_BOOTSTRAP_KEY: BOOTSTRAP } });
      servers.push(server);
      // Both long-running processes on the SQLite file checkpoint its WAL from a thread of their own.
      expect(server.logs.find((line) => line.msg === 'listening')).toMatchObject({ delivery: false, backgroundCheckpoints: true });
      expect(server.logs.some((line) => line.msg === 'delivery started')).toBe(false);
      const worker = (await api(server, BOOTSTRAP, 'POST', '/api/workers', { title: 'api only' })).body;
      expect((await api(server, BOOTSTRAP, 'PUT', `/api/workers/${worker.id}/webhook`, { url: `${receiver.url}/hook` })).status).toBe(200);
      const service = (await runCli(['keys', 'create', '--service', '--name', 'runner', '--db', db])).stdout.trim();
      expect((await api(server, service, 'POST', '/api/task-completions', { taskId: 'task_api_only', workerId: worker.id, status: 'completed' })).status).toBe(202);
      const deliverer = await startServerProcess({ args: ['deliver', '--db', db, '--allow-private-network'], readyMessage: 'delivering' });
      servers.push(deliverer);
      expect(deliverer.logs.find((line) => line.msg === 'delivering')).toMatchObject({ backgroundCheckpoints: true });
      const [request] = await receiver.waitForRequests(1);
      expect(JSON.parse(request!.body)).toMatchObject({ data: { taskId: 'task_api_only' } });
    } finally {
      await receiver.close();
    }
  });

  it('rebuilds projections while serving: responses are identical afterwards, and --verify catches tampering', async () => {
    const db = tempDb();
    const server = await serve(db, { HANDINGER_BOOTSTRAP_KEY: BOOTSTRAP });
    const workers: string[] = [];
    for (let i = 0; i < 5; i++) {
      const { body } = await api(server, BOOTSTRAP, 'POST', '/api/workers', { title: `w${i}` });
      workers.push(body.id);
      await api(server, BOOTSTRAP, 'PUT', `/api/workers/${body.id}/webhook`, { url: `http://127.0.0.1:9/h${i}` });
    }
    await api(server, BOOTSTRAP, 'DELETE', `/api/workers/${workers[4]}/webhook`);
    const responses = async () =>
      Promise.all(workers.flatMap((id) => [api(server, BOOTSTRAP, 'GET', `/api/workers/${id}/webhook`), api(server, BOOTSTRAP, 'GET', `/api/workers/${id}/webhook/executions`)]));
    const before = await responses();

    const rebuild = await runCli(['rebuild-projections', '--db', db]);
    expect(rebuild.status).toBe(0);
    expect(rebuild.stdout).toMatch(/^rebuilt the read models from \d+ events/);
    expect(await responses()).toEqual(before);
    expect((await api(server, BOOTSTRAP, 'POST', '/api/workers', { title: 'after' })).status).toBe(200);

    expect(await runCli(['rebuild-projections', '--verify', '--db', db])).toMatchObject({ status: 0, stdout: expect.stringContaining('verified') });
    const raw = new Database(db);
    raw.prepare("UPDATE workers SET title = 'tampered' WHERE title = 'w2'").run();
    raw.close();
    const verify = await runCli(['rebuild-projections', '--verify', '--db', db]);
    expect(verify.status).toBe(1);
    expect(verify.stdout).toMatch(/verify failed: workers: live row .*tampered/);
  });
});
