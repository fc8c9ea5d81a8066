import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumArgs, createTempDir, findChromium, scrapeMetrics, startReceiver, startServerProcess, waitFor, type Receiver, type ServerProcess } from '@handinger-webhooks/testing';
import { chromium } from 'playwright-core';

const BUILT = fileURLToPath(new URL(`../../../dist/handinger-webhooks-${process.platform}-${process.arch}`, import.meta.url));
const USER_KEY = 'hwk_sea_test_user_key_0123456789abcdefghijklmn';

let dir: ReturnType<typeof createTempDir>;
let binary: string;
let env: Record<string, string>;

/** Runs the copied executable with no node or npm reachable through PATH. */
async function run(args: string[], extraEnv: Record<string, string> = {}) {
  const child = spawn(binary, args, { cwd: dir.path, env: { ...env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => (stdout += c));
  child.stderr.on('data', (c) => (stderr += c));
  const [status] = (await once(child, 'close')) as [number | null];
  return { status, stdout, stderr };
}

const cachedAddons = () =>
  readdirSync(join(dir.path, 'cache/handinger-webhooks'), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));

beforeAll(() => {
  expect(existsSync(BUILT), `${BUILT} is missing: run npm run package`).toBe(true);
  dir = createTempDir('handinger-sea-');
  binary = join(dir.path, 'handinger-webhooks');
  copyFileSync(BUILT, binary);
  const emptyBin = join(dir.path, 'bin');
  mkdirSync(emptyBin);
  // Nothing on PATH: the executable must need no node, npm or shell.
  env = { PATH: emptyBin, HOME: dir.path, XDG_CACHE_HOME: join(dir.path, 'cache'), HANDINGER_LOG_LEVEL: 'info' };
});
afterAll(() => dir?.remove());

describe('the single executable', () => {
  it('runs without node: --version, --help', async () => {
    expect(await run(['--version'])).toMatchObject({ status: 0, stdout: `${JSON.parse(readFileSync(new URL('../../../apps/server/package.json', import.meta.url), 'utf8')).version}\n` });
    expect((await run(['--help'])).stdout).toContain('rebuild-projections');
    expect(await run(['which-node'])).toMatchObject({ status: 2 });
  });

  describe('serving', () => {
    let server: ServerProcess;
    let receiver: Receiver;
    const db = () => join(dir.path, 'data/handinger.db');

    beforeAll(async () => {
      receiver = await startReceiver();
      server = await startServerProcess({
        command: [binary],
        args: ['serve', '--port', '0', '--db', db(), '--allow-private-network'],
        env: { ...env, HANDINGER_BOOTSTRAP_KEY: USER_KEY, HANDINGER_RETRY_SCHEDULE: '200ms' },
      });
    });
    afterAll(async () => {
      await server?.stop('SIGTERM');
      await receiver?.close();
    });

    it('delivers a signed notification end to end and lists the execution; rebuild --verify agrees', async () => {
      const call = async (key: string, method: string, path: string, body?: unknown) => {
        const response = await fetch(`${server.baseUrl}${path}`, {
          method,
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
        return { status: response.status, body: (await response.json()) as Record<string, any> };
      };
      const worker = await call(USER_KEY, 'POST', '/api/workers', { title: 'SEA' });
      expect(worker.status).toBe(200);
      const webhook = await call(USER_KEY, 'PUT', `/api/workers/${worker.body.id}/webhook`, { url: `${receiver.url}/hook` });
      expect(webhook.status).toBe(200);

      const service = await run(['keys', 'create', '--service', '--name', 'runner', '--db', db()]);
      expect(service.status).toBe(0);
      const completion = await call(service.stdout.trim(), 'POST', '/api/task-completions', {
        taskId: 'task_sea',
        workerId: worker.body.id,
        status: 'completed',
        output: { ok: true },
      });
      expect(completion).toEqual({ status: 202, body: { accepted: true, duplicate: false } });

      const [request] = await receiver.waitForRequests(1);
      // Sent from the sender's own thread, started from the source the executable carries.
      expect(server.logs.find((line) => line.msg === 'delivery started')).toMatchObject({ senderThread: true });
      // WAL checkpoints on their own thread too, from the bundled source and the extracted addon.
      expect(server.logs.find((line) => line.msg === 'listening')).toMatchObject({ backgroundCheckpoints: true });
      expect(request!.headers['x-handinger-token']).toBe(webhook.body.token);
      const payload = new Webhook(webhook.body.signingSecret).verify(request!.body, request!.headers as Record<string, string>);
      expect(payload).toMatchObject({ type: 'task.completed', data: { taskId: 'task_sea', workerId: worker.body.id, output: { ok: true } } });

      // The attempt is recorded right after the receiver answers.
      const executions = await waitFor(async () => {
        const list = await call(USER_KEY, 'GET', `/api/workers/${worker.body.id}/webhook/executions`);
        return list.body.totalCount >= 1 && list;
      });
      expect(executions.body).toMatchObject({ totalCount: 1, pageCount: 1, logs: [{ taskId: 'task_sea', requestStatus: 'success', responseStatus: 200 }] });

      expect(await run(['rebuild-projections', '--verify', '--db', db()])).toMatchObject({ status: 0, stdout: expect.stringContaining('verified') });
    });

    it('serves /metrics (prom-client is in the bundle) and /readyz; deliver serves them on --metrics-port', async () => {
      const metrics = await waitFor(async () => {
        const scrape = await scrapeMetrics(server.baseUrl);
        return scrape.value('handinger_delivery_attempts_total', { result: 'success' }) >= 1 && scrape;
      });
      expect(metrics.value('handinger_notifications_total', { type: 'task.completed' })).toBe(1);
      expect(metrics.families.get('process_cpu_seconds_total')).toBe('counter');
      expect(metrics.families.get('nodejs_eventloop_lag_seconds')).toBe('gauge');
      expect(metrics.value('handinger_http_requests_total', { route: '/api/workers/{workerId}/webhook', method: 'PUT', status: '200' })).toBe(1);
      expect(await (await fetch(`${server.baseUrl}/readyz`)).json()).toEqual({ status: 'ready' });

      const deliverer = await startServerProcess({ command: [binary], args: ['deliver', '--db', db(), '--metrics-port', '0'], env, readyMessage: 'delivering' });
      try {
        expect((await fetch(`${deliverer.baseUrl}/readyz`)).status).toBe(200);
        expect((await scrapeMetrics(deliverer.baseUrl)).families.get('handinger_delivery_due')).toBe('gauge');
      } finally {
        await deliverer.stop();
      }
    });

    it('serves the web console it carries (SPEC §9): same files as the build, working in Chromium with nothing from another origin', async () => {
      const built = JSON.parse(readFileSync(new URL('../../../apps/console/dist/console-assets.json', import.meta.url), 'utf8')) as { files: Record<string, { base64: string }> };
      for (const [name, file] of Object.entries(built.files)) {
        const response = await fetch(`${server.baseUrl}/console/${name === 'index.html' ? '' : name}`);
        expect(response.status).toBe(200);
        expect(Buffer.from(await response.arrayBuffer()).equals(Buffer.from(file.base64, 'base64'))).toBe(true);
      }
      const browser = await chromium.launch({ executablePath: findChromium(), args: chromiumArgs(), headless: true });
      try {
        const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
        const foreign: string[] = [];
        const errors: string[] = [];
        page.on('request', (request) => {
          if (!request.url().startsWith(`${server.baseUrl}/`)) foreign.push(request.url());
        });
        page.on('console', (message) => message.type() === 'error' && errors.push(message.text()));
        page.on('pageerror', (error) => errors.push(error.message));
        await page.goto(`${server.baseUrl}/`);
        await page.getByLabel('API key').fill(USER_KEY);
        await page.getByRole('button', { name: 'Sign in' }).click();
        await page.getByRole('link', { name: 'SEA' }).click();
        await page.getByTestId('log-count').filter({ hasText: '1 in all' }).waitFor();
        await page.locator('table.executions tbody tr').filter({ hasText: 'task_sea' }).waitFor();
        expect(foreign).toEqual([]);
        expect(errors).toEqual([]);
      } finally {
        await browser.close();
      }
    });
  });

  it('detects a damaged or foreign addon in its cache and replaces it instead of loading it', async () => {
    expect((await run(['keys', 'list', '--db', join(dir.path, 'other.db')])).status).toBe(0);
    const [addon] = cachedAddons();
    const good = readFileSync(addon!);

    writeFileSync(addon!, good.subarray(0, good.length / 2)); // damaged: truncated
    expect((await run(['keys', 'list', '--db', join(dir.path, 'other.db')])).status).toBe(0);
    expect(readFileSync(addon!).equals(good)).toBe(true);

    writeFileSync(addon!, 'not an ELF shared object'); // foreign
    expect((await run(['keys', 'list', '--db', join(dir.path, 'other.db')])).status).toBe(0);
    expect(readFileSync(addon!).equals(good)).toBe(true);
    expect(cachedAddons()).toEqual([addon]); // no temporary files left behind
  });

  it('starts eight processes at once on an empty cache, all of them successfully', async () => {
    const cache = join(dir.path, 'cold-cache');
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => run(['keys', 'list', '--db', join(dir.path, `cold-${i}.db`)], { XDG_CACHE_HOME: cache })));
    expect(results.map((r) => r.status)).toEqual(Array(8).fill(0));
    const files = readdirSync(join(cache, 'handinger-webhooks'), { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
    expect(files.map((f) => f.name)).toEqual(['better_sqlite3.node']);
  });
});
