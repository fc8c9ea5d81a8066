import { chmodSync, copyFileSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import { NO_WEBHOOK } from '@handinger-webhooks/contracts';
import { createTempDir, runCli, startReceiver, startServerProcess, waitFor, type Receiver, type ServerProcess } from '@handinger-webhooks/testing';

/**
 * SPEC §7 "Secrets at rest", through the real CLI: files owner-only, no
 * token or signing secret in the clear in any file the service writes, a
 * missing or wrong key refused at start with one line naming where it was
 * looked for, and a database from before sealing upgraded in place.
 */

const USER_KEY = 'hwk_secrets_at_rest_test_key_0123456789abcdef';
const FIXTURE = fileURLToPath(new URL('./fixtures/before-sealed-secrets.db', import.meta.url));
const fixture = JSON.parse(readFileSync(fileURLToPath(new URL('./fixtures/before-sealed-secrets.json', import.meta.url)), 'utf8')) as {
  userKey: string;
  serviceKey: string;
  workers: { workerId: string; token: string; signingSecret: string; url: string }[];
  executions: number;
};

let dir: ReturnType<typeof createTempDir> | undefined;
let receiver: Receiver | undefined;
const servers: ServerProcess[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop('SIGKILL')));
  await receiver?.close();
  dir?.remove();
  dir = receiver = undefined;
});

const mode = (path: string) => statSync(path).mode & 0o777;

async function serve(db: string, env: Record<string, string> = {}) {
  const server = await startServerProcess({ args: ['serve', '--port', '0', '--db', db, '--allow-private-network'], env: { HANDINGER_BOOTSTRAP_KEY: USER_KEY, ...env } });
  servers.push(server);
  return server;
}

async function call(server: ServerProcess, key: string, method: string, path: string, body?: unknown) {
  const response = await fetch(`${server.baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as any };
}

/** Every file the service wrote next to the database (the database, its WAL companions, the key file). */
const filesBeside = (folder: string) => readdirSync(folder).map((name) => `${folder}/${name}`);

/** No file of `folder` holds any of `secrets` as bytes. */
function expectNoneInFiles(folder: string, secrets: string[]): void {
  for (const file of filesBeside(folder)) {
    const bytes = readFileSync(file);
    for (const secret of secrets) expect(bytes.includes(Buffer.from(secret)), `${secret.slice(0, 10)}… found in ${file}`).toBe(false);
  }
}

/** Starting must fail with one line on stderr (no stack trace) that matches `message`. */
async function expectRefusedStart(db: string, env: Record<string, string>, message: RegExp) {
  const result = await runCli(['keys', 'list', '--db', db], { env });
  expect(result.status).toBe(1);
  const lines = result.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(message);
  const started = startServerProcess({ args: ['serve', '--port', '0', '--db', db], env });
  await expect(started).rejects.toThrow(message);
}

describe('a new database', () => {
  it('is owner-only, with its key file, and holds no secret in the clear', async () => {
    dir = createTempDir();
    const folder = dir.file('data');
    const db = `${folder}/handinger.db`;
    receiver = await startReceiver();
    const server = await serve(db);

    expect(mode(folder)).toBe(0o700);
    expect(mode(db)).toBe(0o600);
    expect(mode(`${db}.key`)).toBe(0o600);
    expect(server.logs.find((line) => line.msg === 'listening')).toMatchObject({ secretKeySource: `${db}.key` });

    const worker = (await call(server, USER_KEY, 'POST', '/api/workers', { title: 'sealed' })).body;
    const first = (await call(server, USER_KEY, 'PUT', `/api/workers/${worker.id}/webhook`, { url: `${receiver.url}/hook` })).body;
    const rotated = (await call(server, USER_KEY, 'POST', `/api/workers/${worker.id}/webhook/regenerate-token`)).body;
    expect(rotated.token).not.toBe(first.token);
    for (const suffix of ['-wal', '-shm']) expect(mode(db + suffix)).toBe(0o600);

    // The API answers the secrets in the clear; no file holds them so (the WAL included, while the server runs).
    const secrets = [first.token, first.signingSecret, rotated.token, rotated.signingSecret];
    expectNoneInFiles(folder, [...secrets, ...secrets.map((s: string) => s.replace(/^whsec_/, ''))]);

    // Deliveries are signed with the secret the API showed.
    const serviceKey = (await runCli(['keys', 'create', '--service', '--name', 'runner', '--db', db])).stdout.trim();
    expect((await call(server, serviceKey, 'POST', '/api/task-completions', { taskId: 'sealed-1', workerId: worker.id, status: 'completed' })).status).toBe(202);
    const [request] = await receiver.waitForRequests(1);
    expect(request!.headers['x-handinger-token']).toBe(rotated.token);
    expect(() => new Webhook(rotated.signingSecret).verify(request!.body, request!.headers as Record<string, string>)).not.toThrow();

    // Rebuild and verify copy the sealed values unchanged.
    const verified = await runCli(['rebuild-projections', '--verify', '--db', db]);
    expect(verified.status).toBe(0);
    expect((await call(server, USER_KEY, 'GET', `/api/workers/${worker.id}/webhook`)).body).toEqual(rotated);
  });

  it('takes its key from HANDINGER_SECRET_KEY instead of a key file, and then needs it', async () => {
    dir = createTempDir();
    const db = dir.file('env.db');
    const key = Buffer.alloc(32, 7).toString('base64');
    const server = await serve(db, { HANDINGER_SECRET_KEY: key });
    expect(server.logs.find((line) => line.msg === 'listening')).toMatchObject({ secretKeySource: 'HANDINGER_SECRET_KEY' });
    expect(() => statSync(`${db}.key`)).toThrow();
    await server.stop();
    servers.length = 0;

    await expectRefusedStart(db, {}, new RegExp(`no secret key for this database: HANDINGER_SECRET_KEY is not set and the key file ${db}\\.key does not exist`));
    await expectRefusedStart(db, { HANDINGER_SECRET_KEY: Buffer.alloc(32, 8).toString('base64') }, /the secret key from HANDINGER_SECRET_KEY does not open this database's secrets/);
    await expectRefusedStart(db, { HANDINGER_SECRET_KEY: 'too-short' }, /HANDINGER_SECRET_KEY must hold the base64 of 32 random bytes/);
    expect((await runCli(['keys', 'list', '--db', db], { env: { HANDINGER_SECRET_KEY: key } })).status).toBe(0);
  });

  it('refuses to start without its key file, naming the file', async () => {
    dir = createTempDir();
    const db = dir.file('lost-key.db');
    await (await serve(db)).stop();
    servers.length = 0;
    rmSync(`${db}.key`);
    await expectRefusedStart(db, {}, new RegExp(`the key file ${db}\\.key does not exist \\(restore it from your backup\\)`));
  });
});

describe('a database from before secrets were sealed', () => {
  it('is upgraded in place at first start: secrets sealed, API and signatures unchanged, files tightened', async () => {
    dir = createTempDir();
    const db = dir.file('old.db');
    copyFileSync(FIXTURE, db);
    chmodSync(db, 0o644);
    const plaintext = fixture.workers.flatMap((w) => [w.token, w.signingSecret]);
    expect(plaintext.every((secret) => readFileSync(db).includes(Buffer.from(secret)))).toBe(true);

    receiver = await startReceiver();
    const server = await serve(db);
    expect(mode(db)).toBe(0o600);
    expect(mode(`${db}.key`)).toBe(0o600);
    expectNoneInFiles(dir.path, plaintext);

    // Every webhook answers the secrets it had, and old executions are all there.
    for (const worker of fixture.workers) {
      const webhook = (await call(server, fixture.userKey, 'GET', `/api/workers/${worker.workerId}/webhook`)).body;
      expect(webhook).toEqual({ ...NO_WEBHOOK, token: worker.token, url: worker.url, signingSecret: worker.signingSecret });
    }
    const [rotated] = fixture.workers;
    expect((await call(server, fixture.userKey, 'GET', `/api/workers/${rotated!.workerId}/webhook/executions`)).body.totalCount).toBe(fixture.executions);

    // A new delivery carries the old token and verifies with the old signing secret.
    expect((await call(server, fixture.userKey, 'PUT', `/api/workers/${rotated!.workerId}/webhook`, { url: `${receiver.url}/hook` })).status).toBe(200);
    expect((await call(server, fixture.serviceKey, 'POST', '/api/task-completions', { taskId: 'after-upgrade', workerId: rotated!.workerId, status: 'completed' })).status).toBe(202);
    const [request] = await receiver.waitForRequests(1);
    expect(request!.headers['x-handinger-token']).toBe(rotated!.token);
    expect(() => new Webhook(rotated!.signingSecret).verify(request!.body, request!.headers as Record<string, string>)).not.toThrow();
    await waitFor(async () => (await call(server, fixture.userKey, 'GET', `/api/workers/${rotated!.workerId}/webhook/executions`)).body.totalCount === fixture.executions + 1);

    expect((await runCli(['rebuild-projections', '--verify', '--db', db])).status).toBe(0);
    await server.stop();
    servers.length = 0;
    // A second start finds the database set up: nothing to upgrade, same key.
    const again = await serve(db);
    expect((await call(again, fixture.userKey, 'GET', `/api/workers/${rotated!.workerId}/webhook`)).body.token).toBe(rotated!.token);
    expectNoneInFiles(dir.path, plaintext);
  });
});
