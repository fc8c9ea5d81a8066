import { copyFileSync, mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  chromiumArgs,
  createTempDir,
  findChromium,
  runCli,
  startReceiver,
  startServerProcess,
  waitFor,
  type Receiver,
  type ServerProcess,
} from '@handinger-webhooks/testing';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';

// A real browser on a shared 2-core CI machine: room for slow moments, never a fixed wait.
vi.setConfig({ testTimeout: 60_000 });

/**
 * SPEC §9 in a real browser: Debian's Chromium driven by playwright-core,
 * against a real server process (SQLite), a real receiver, and deliveries
 * made by the server itself. Every wait is on an event or a condition
 * (locators, waitForFunction, waitFor), never a fixed sleep.
 */

// page.evaluate callbacks run in the browser: this Node program has no DOM types.
declare const document: any, window: any, sessionStorage: any, localStorage: any, location: any, navigator: any;

const here = dirname(fileURLToPath(import.meta.url));
/** `UPDATE_SCREENSHOTS=1` copies the screenshots this run makes into the README's folder. */
const SCREENSHOTS = join(here, '../../../docs/screenshots');
const KEY = 'hwk_console_test_key_0123456789abcdefghijklmnop';
const XSS_TITLE = '<img src=x onerror="window.__pwned=1">';
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

interface Watched {
  context: BrowserContext;
  page: Page;
  /** Requests to any origin but the server's. */
  foreign: string[];
  /** Console errors and uncaught exceptions. */
  errors: string[];
}

let server: ServerProcess;
let receiver: Receiver;
let browser: Browser;
let serviceKey: string;
let shots: ReturnType<typeof createTempDir>;
const framing: { server?: Server; origin?: string } = {};
/** The signing secrets the receiver accepts: it verifies every request, as a careful receiver does (SPEC §8.2's check). */
const receiverSecrets: string[] = [];
const verifies = (body: string, headers: Record<string, string>): boolean =>
  receiverSecrets.length === 0 || receiverSecrets.some((secret) => {
    try {
      new StandardWebhook(secret).verify(body, headers);
      return true;
    } catch {
      return false;
    }
  });

async function api<T = any>(method: string, path: string, key: string, body?: unknown): Promise<{ status: number; body: T }> {
  const response = await fetch(`${server.baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

/** A fresh browser context (its own sessionStorage), watched for foreign requests and console errors. */
async function open(viewport = DESKTOP, options: { allowForeign?: boolean } = {}): Promise<Watched> {
  const context = await browser.newContext({ viewport, deviceScaleFactor: 1, colorScheme: 'light' });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.baseUrl });
  const page = await context.newPage();
  const watched: Watched = { context, page, foreign: [], errors: [] };
  const origin = new URL(server.baseUrl).origin;
  context.on('request', (request) => {
    const url = request.url();
    if (!options.allowForeign && !url.startsWith(`${origin}/`) && !url.startsWith('data:')) watched.foreign.push(url);
  });
  page.on('console', (message) => {
    if (message.type() === 'error') watched.errors.push(message.text());
  });
  page.on('pageerror', (error) => watched.errors.push(`uncaught: ${error.message}`));
  return watched;
}

async function signIn(page: Page, key = KEY): Promise<void> {
  await page.goto(`${server.baseUrl}/console/`);
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Workers' }).waitFor();
}

/** The page never scrolls sideways (SPEC §9). */
async function expectNoSidewaysScroll(page: Page): Promise<void> {
  const { scrollWidth, innerWidth } = await page.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth }));
  expect(scrollWidth).toBeLessThanOrEqual(innerWidth);
}

async function screenshot(page: Page, name: string): Promise<void> {
  await page.evaluate(() => window.scrollTo(0, 0));
  const file = shots.file(`${name}.png`);
  await page.screenshot({ path: file, type: 'png' });
  if (process.env.UPDATE_SCREENSHOTS === '1') {
    mkdirSync(SCREENSHOTS, { recursive: true });
    copyFileSync(file, join(SCREENSHOTS, `${name}.png`));
  }
}

/** Completes tasks of `workerId` as the task runner does; the server delivers each to the receiver. */
async function completeTasks(workerId: string, titles: string[]): Promise<void> {
  for (const [i, title] of titles.entries()) {
    const response = await api('POST', '/api/task-completions', serviceKey, { taskId: `task-${workerId}-${Date.now()}-${i}`, workerId, title, status: 'completed' });
    expect(response.status).toBe(202);
  }
}

/** A `datetime-local` value (the reader's time zone, minutes). */
function localDateTime(ms: number): string {
  const date = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return date.toISOString().slice(0, 16);
}

async function executionCount(workerId: string, key = KEY): Promise<number> {
  return (await api('GET', `/api/workers/${workerId}/webhook/executions`, key)).body.totalCount;
}

beforeAll(async () => {
  shots = createTempDir('handinger-console-shots-');
  const dir = createTempDir('handinger-console-');
  // A page of another origin that frames portal views (SPEC §9.1): the one origin the server allows to.
  framing.server = createServer((req, res) => {
    const src = new URL(req.url ?? '/', 'http://x').searchParams.get('src') ?? '';
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><title>embedding app</title><iframe id="portal" title="Webhook log" width="1000" height="700" src="${src.replace(/"/g, '&quot;')}"></iframe>`);
  });
  await new Promise<void>((resolve) => framing.server!.listen(0, '127.0.0.1', resolve));
  framing.origin = `http://127.0.0.1:${(framing.server.address() as AddressInfo).port}`;

  receiver = await startReceiver((request) => {
    if (!verifies(request.body, request.headers as Record<string, string>)) return { status: 401 };
    return request.body.includes('"taskTitle":"fail') ? { status: 500 } : { status: 200 };
  });
  const db = dir.file('console.db');
  const env = {
    HANDINGER_BOOTSTRAP_KEY: KEY,
    HANDINGER_RETRY_SCHEDULE: '100ms',
    HANDINGER_PORTAL_FRAME_ANCESTORS: framing.origin,
    HANDINGER_LOG_LEVEL: 'warn',
  };
  server = await startServerProcess({ args: ['serve', '--port', '0', '--db', db, '--allow-private-network'], env: { ...env, HANDINGER_LOG_LEVEL: 'info' } });
  const created = await runCli(['keys', 'create', '--service', '--name', 'runner', '--db', db], { env });
  expect(created.status).toBe(0);
  serviceKey = created.stdout.trim();
  browser = await chromium.launch({ executablePath: findChromium(), args: chromiumArgs(), headless: true });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await receiver?.close();
  await new Promise<void>((resolve) => (framing.server ? framing.server.close(() => resolve()) : resolve()));
  shots?.remove();
});

describe('serving (SPEC §9)', () => {
  test('/ redirects to /console/; index.html is revalidated, hashed assets are immutable; a strict CSP everywhere', async () => {
    const root = await fetch(`${server.baseUrl}/`, { redirect: 'manual' });
    expect(root.status).toBe(302);
    expect(root.headers.get('location')).toBe('/console/');
    const index = await fetch(`${server.baseUrl}/console/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('cache-control')).toBe('no-cache');
    const csp = index.headers.get('content-security-policy')!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    const html = await index.text();
    expect(html).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/); // no inline script
    expect(html).not.toMatch(/https?:\/\//); // nothing from another origin
    const assets = [...html.matchAll(/(?:src|href)="(\/console\/assets\/[^"]+)"/g)].map((m) => m[1]!);
    expect(assets.length).toBe(3);
    for (const asset of assets) {
      const response = await fetch(`${server.baseUrl}${asset}`);
      expect(response.status).toBe(200);
      expect(response.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    }
    const again = await fetch(`${server.baseUrl}/console/`, { headers: { 'if-none-match': index.headers.get('etag')! } });
    expect(again.status).toBe(304);
    const portal = await fetch(`${server.baseUrl}/console/portal`);
    expect(portal.headers.get('content-security-policy')).toContain(`frame-ancestors ${framing.origin}`);
    const json = await fetch(`${server.baseUrl}/healthz`);
    expect(json.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect((await fetch(`${server.baseUrl}/console/assets/nothing.js`)).status).toBe(404);
    expect((await fetch(`${server.baseUrl}/console/`, { method: 'POST' })).status).toBe(405);
  });
});

describe('the console in Chromium', () => {
  let main: Watched;
  let workerId: string;

  beforeAll(async () => {
    main = await open(DESKTOP);
  });
  afterAll(async () => {
    await main?.context.close();
  });

  test('a wrong key is refused with a message, and nothing is kept', async () => {
    const { page, context } = await open(DESKTOP);
    await page.goto(`${server.baseUrl}/console/`);
    await page.getByLabel('API key').fill('hwk_not_a_key_at_all_0000000000000000000');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'not accepted' }).waitFor();
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    await context.close();
  });

  test('sign-in with the keyboard; the key lives in sessionStorage only (no URL, cookie or localStorage)', async () => {
    const { page, context } = main;
    await page.goto(`${server.baseUrl}/`);
    await page.waitForURL(`${server.baseUrl}/console/`);
    await page.keyboard.press('Tab'); // the key field is the first control
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('api-key');
    await page.keyboard.type(KEY);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Workers' }).waitFor();
    const storage = await page.evaluate(() => ({ session: JSON.stringify(sessionStorage), local: localStorage.length, url: location.href }));
    expect(storage.session).toContain(KEY);
    expect(storage.local).toBe(0);
    expect(storage.url).not.toContain(KEY);
    expect(await context.cookies()).toEqual([]);
  });

  test('create a worker, set its URL, reveal and copy the secrets', async () => {
    const { page } = main;
    await page.getByLabel('New worker').fill('Invoice digest');
    await page.getByRole('button', { name: 'Create worker' }).click();
    await page.getByRole('heading', { name: /Invoice digest/ }).waitFor();
    workerId = decodeURIComponent(new URL(page.url()).hash.split('/')[2]!);
    expect(workerId).toMatch(/^t_org_local_w_/);

    await page.getByLabel('URL', { exact: true }).fill(`${receiver.url}/hooks/handinger`);
    await page.getByRole('button', { name: 'Set URL' }).click();
    await page.getByRole('button', { name: 'Reveal Token' }).waitFor();
    const webhook = (await api('GET', `/api/workers/${workerId}/webhook`, KEY)).body;
    expect(webhook.url).toBe(`${receiver.url}/hooks/handinger`);
    const secret = page.getByTestId('secret-Signing secret');
    expect(await secret.textContent()).not.toContain('whsec_');
    await page.getByRole('button', { name: 'Reveal Signing secret' }).click();
    expect(await secret.textContent()).toBe(webhook.signingSecret);
    await page.getByRole('button', { name: 'Hide Signing secret' }).click();
    expect(await secret.textContent()).not.toContain('whsec_');
    await page.getByRole('button', { name: 'Copy Token' }).click();
    await page.waitForFunction(async (token) => (await navigator.clipboard.readText()) === token, webhook.token);
    receiverSecrets.push(webhook.signingSecret);

    // Change the URL, then back.
    await page.getByLabel('URL', { exact: true }).fill(`${receiver.url}/hooks/other`);
    await page.getByRole('button', { name: 'Save URL' }).click();
    await waitFor(async () => (await api('GET', `/api/workers/${workerId}/webhook`, KEY)).body.url === `${receiver.url}/hooks/other`);
    await page.getByLabel('URL', { exact: true }).fill(`${receiver.url}/hooks/handinger`);
    await page.getByRole('button', { name: 'Save URL' }).click();
    await waitFor(async () => (await api('GET', `/api/workers/${workerId}/webhook`, KEY)).body.url === `${receiver.url}/hooks/handinger`);
    expect((await api('GET', `/api/workers/${workerId}/webhook`, KEY)).body.token).toBe(webhook.token);
  });

  test('the log: 125 executions, newest first, 50 a page; a hostile title is shown as text', async () => {
    const { page } = main;
    const titles = Array.from({ length: 124 }, (_, i) => (i % 10 === 3 ? `fail-nightly-report #${i}` : `Nightly report #${i}`));
    await completeTasks(workerId, titles);
    await completeTasks(workerId, [XSS_TITLE]);
    // Each failing one is retried once (schedule 100ms): 13 more executions.
    await waitFor(async () => (await executionCount(workerId)) === 125 + 13, { timeoutMs: 60_000 });
    await page.getByTestId('log-count').filter({ hasText: '138 in all' }).waitFor();
    expect(await page.locator('table.executions tbody tr').count()).toBe(50);
    await page.getByText(XSS_TITLE, { exact: true }).first().waitFor();
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await page.locator('table.executions img').count()).toBe(0);
    // A failed row: its badge, HTTP status and error.
    const failed = page.locator('tr', { hasText: 'fail-nightly-report' }).first();
    expect(await failed.locator('.badge').textContent()).toBe('Failed');
    expect(await failed.locator('td[data-label="HTTP"]').textContent()).toBe('500');
    expect(await failed.locator('td[data-label="Error"]').textContent()).toBe('HTTP 500');
    await screenshot(page, 'console-log');
    await expectNoSidewaysScroll(page);
  });

  test('the last page opens directly, as fast as the first, and page numbers show first and last', async () => {
    const { page } = main;
    const nav = page.getByRole('navigation', { name: 'Execution pages' });
    expect(await nav.getByRole('link', { name: 'Page 3 (last)' }).count()).toBe(1);
    let started = Date.now();
    await nav.getByRole('link', { name: 'Last', exact: true }).click();
    await page.getByTestId('log-count').filter({ hasText: 'page 3 of 3' }).waitFor();
    await page.locator('table.executions tbody tr').nth(37).waitFor();
    const deep = Date.now() - started;
    expect(await page.locator('table.executions tbody tr').count()).toBe(38);
    started = Date.now();
    await nav.getByRole('link', { name: 'First', exact: true }).click();
    await page.getByTestId('log-count').filter({ hasText: 'page 1 of 3' }).waitFor();
    // On the first page, First and Previous are not links (no keyboard stop).
    expect(await nav.getByRole('link', { name: 'First', exact: true }).count()).toBe(0);
    const first = Date.now() - started;
    expect(deep).toBeLessThan(Math.max(1_000, first * 5));
  });

  test('new executions appear within 2 s, without a reload', async () => {
    const { page } = main;
    const before = await executionCount(workerId);
    await completeTasks(workerId, ['Fresh one, just now']);
    await waitFor(async () => (await executionCount(workerId)) === before + 1);
    await page.locator('table.executions tbody tr').first().filter({ hasText: 'Fresh one, just now' }).waitFor({ timeout: 2_000 });
  });

  test('a row opens its detail (SPEC §8.7), with the keyboard too: trigger, attempt, the request sent with secrets redacted', async () => {
    const { page } = main;
    const link = page.locator('table.executions tbody tr').first().getByRole('link');
    await link.focus();
    await page.keyboard.press('Enter');
    const detail = page.locator('section.detail');
    await detail.getByRole('heading', { name: /Execution whe_/ }).waitFor();
    const text = (await detail.textContent())!;
    expect(text).toContain(`${receiver.url}/hooks/handinger`);
    expect(text).toContain('Fresh one, just now');
    expect(text).toContain('First delivery, attempt 1');
    expect(text).toContain('[redacted]');
    expect(text).not.toContain(receiverSecrets[0]!);
    expect(JSON.parse((await detail.getByTestId('request-body').textContent())!)).toMatchObject({ type: 'task.completed', data: { workerId, taskTitle: 'Fresh one, just now' } });
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('detail-heading');
    await expectNoSidewaysScroll(page);
    await detail.getByRole('link', { name: 'Close' }).click();
    await detail.waitFor({ state: 'detached' });
  });

  test('send a test with the signature check: the receiver verifies, so the verdict is "verified"; the test is in the log', async () => {
    const { page } = main;
    const before = await executionCount(workerId);
    await page.getByRole('checkbox', { name: /rejects forged signatures/ }).check();
    await page.getByRole('button', { name: 'Send test' }).click();
    const result = page.getByTestId('test-result');
    await result.locator('[data-verdict="verified"]').waitFor();
    expect(await result.textContent()).toContain('it verifies signatures');
    expect(await result.locator('.badge').textContent()).toBe('Success');
    await page.getByTestId('log-count').filter({ hasText: `${before + 1} in all` }).waitFor();
    const row = page.locator('table.executions tbody tr').first();
    expect(await row.locator('td[data-label="Task"]').textContent()).toBe('—');
  });

  test('rotate with an overlap: new secrets at once, the previous signing secret still signs until the end shown', async () => {
    const { page } = main;
    const before = (await api('GET', `/api/workers/${workerId}/webhook`, KEY)).body;
    await page.getByLabel('Overlap').selectOption({ label: 'Keep the old secret for 1 hour' });
    await page.getByRole('button', { name: 'Rotate secrets…' }).click();
    await page.getByRole('button', { name: 'Rotate now' }).click();
    await page.getByTestId('overlap').waitFor();
    const after = (await api('GET', `/api/workers/${workerId}/webhook`, KEY)).body;
    expect(after.token).not.toBe(before.token);
    expect(after.signingSecret).not.toBe(before.signingSecret);
    const remaining = Date.parse(after.previousSigningSecretExpiresAt) - Date.now();
    expect(remaining).toBeGreaterThan(3_500_000);
    expect(remaining).toBeLessThanOrEqual(3_600_000);
    await page.getByRole('button', { name: 'Reveal Signing secret' }).click();
    await page.getByTestId('secret-Signing secret').filter({ hasText: after.signingSecret }).waitFor();
    await page.getByRole('button', { name: 'Hide Signing secret' }).click();
    receiverSecrets.splice(0, receiverSecrets.length, after.signingSecret); // the receiver moves to the new secret
  });

  test('disable holds notifications (reason, time, held count shown); enable sends them', async () => {
    const { page } = main;
    const status = page.getByTestId('webhook-status');
    await status.getByRole('button', { name: 'Disable' }).click();
    await status.locator('.badge', { hasText: 'Disabled' }).waitFor();
    expect(await status.textContent()).toContain('by hand, since');
    expect(await status.locator('time').count()).toBe(1);
    const before = await executionCount(workerId);
    await completeTasks(workerId, ['Held while disabled']);
    await status.getByTestId('held-count').filter({ hasText: '1 held' }).waitFor();
    expect(await executionCount(workerId)).toBe(before);
    await status.getByRole('button', { name: 'Enable' }).click();
    await status.locator('.badge', { hasText: 'Active' }).waitFor();
    await page.locator('table.executions tbody tr').first().filter({ hasText: 'Held while disabled' }).waitFor();
    await status.getByTestId('held-count').filter({ hasText: '0 held' }).waitFor();
  });

  test('redeliver a row: the same notification once more, as a new execution', async () => {
    const { page } = main;
    const before = await executionCount(workerId);
    const row = page.locator('tr', { hasText: 'Nightly report #120' }).first();
    await row.getByRole('button', { name: /Redeliver/ }).click();
    await row.getByRole('button', { name: /Redeliver/ }).filter({ hasText: 'Queued' }).waitFor();
    await page.getByTestId('log-count').filter({ hasText: `${before + 1} in all` }).waitFor();
    await page.locator('table.executions tbody tr').first().filter({ hasText: 'Nightly report #120' }).waitFor();
    const received = receiver.requests.filter((r) => r.body.includes('"Nightly report #120"'));
    expect(received.length).toBe(2);
    expect(received[1]!.headers['webhook-id']).toBe(received[0]!.headers['webhook-id']);
  });

  test('recover failed since …: the dry-run count first, nothing sent until confirmed, then the progress', async () => {
    const { page } = main;
    const since = new Date(Date.now() - 3_600_000).toISOString();
    const dryRun = await api('POST', `/api/workers/${workerId}/webhook/recover`, KEY, { since, dryRun: true });
    expect(dryRun.body.total).toBe(13);
    const before = await executionCount(workerId);
    await page.getByLabel('Recover failed since').fill(localDateTime(Date.now() - 3_600_000));
    await page.getByRole('button', { name: 'Count' }).click();
    const counted = page.getByTestId('recover-dry-run');
    await counted.filter({ hasText: '13 failed notifications would be sent again.' }).waitFor();
    expect(await executionCount(workerId)).toBe(before); // a dry run sends nothing
    await counted.getByRole('button', { name: 'Send 13 again' }).click();
    await page.getByTestId('recovery-progress').filter({ hasText: 'Recovery complete: 13 of 13 sent.' }).waitFor();
    expect(await executionCount(workerId)).toBe(before + 13);
  });

  test('keyboard: Tab reaches the pagination, Enter follows it', async () => {
    const { page } = main;
    await page.locator('#main').focus();
    for (let i = 0; i < 200; i++) {
      await page.keyboard.press('Tab');
      if ((await page.evaluate(() => document.activeElement?.textContent)) === 'Last') break;
    }
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Last');
    const pages = Math.ceil((await executionCount(workerId)) / 50);
    await page.keyboard.press('Enter');
    await page.getByTestId('log-count').filter({ hasText: `page ${pages} of ${pages}` }).waitFor();
    await page.getByRole('navigation', { name: 'Execution pages' }).getByRole('link', { name: 'First', exact: true }).click();
  });

  test('at 390×844 the log is readable without sideways scrolling', async () => {
    const phone = await open(PHONE);
    await signIn(phone.page);
    await phone.page.getByRole('link', { name: 'Invoice digest' }).click();
    await phone.page.getByTestId('log-count').filter({ hasText: 'in all' }).waitFor();
    await phone.page.getByText(XSS_TITLE, { exact: true }).first().waitFor();
    await expectNoSidewaysScroll(phone.page);
    await phone.page.locator('table.executions tbody tr').first().getByRole('link').click();
    await phone.page.locator('section.detail').waitFor();
    await expectNoSidewaysScroll(phone.page);
    await phone.page.goto(`${server.baseUrl}/console/#/`);
    await phone.page.getByRole('heading', { name: 'Workers' }).waitFor();
    await expectNoSidewaysScroll(phone.page);
    expect(phone.foreign).toEqual([]);
    expect(phone.errors).toEqual([]);
    await phone.context.close();
  });

  test('a portal link opened in a fresh browser context: the log, no secrets, no key', async () => {
    const { page } = main;
    await page.getByRole('button', { name: 'Create link' }).click();
    const url = await page.getByRole('textbox', { name: 'Portal link' }).inputValue();
    expect(url).toMatch(new RegExp(`^${server.baseUrl}/console/portal#worker=`));
    await screenshot(page, 'console-webhook');

    const portal = await open(DESKTOP);
    await portal.page.goto(url);
    await portal.page.getByText('Read-only portal view of this webhook.').waitFor();
    await portal.page.getByTestId('log-count').filter({ hasText: 'in all' }).waitFor();
    await portal.page.getByText(XSS_TITLE, { exact: true }).first().waitFor();
    expect(new URL(portal.page.url()).hash).toBe(`#/workers/${workerId}`); // the credential left the address bar
    expect(await portal.page.getByText('hidden from this link').count()).toBe(2);
    expect(await portal.page.getByLabel('URL', { exact: true }).count()).toBe(0);
    expect(await portal.page.getByRole('link', { name: 'Workers' }).count()).toBe(0);
    for (const name of ['Send test', 'Disable', 'Rotate secrets…', 'Count', 'Create link']) expect(await portal.page.getByRole('button', { name }).count()).toBe(0);
    expect(await portal.page.getByRole('button', { name: /Redeliver/ }).count()).toBe(0);
    await screenshot(portal.page, 'console-portal');
    // It keeps working across a reload (sessionStorage), and new executions appear.
    await portal.page.reload();
    await completeTasks(workerId, ['Seen through the portal']);
    await portal.page.locator('table.executions tbody tr').first().filter({ hasText: 'Seen through the portal' }).waitFor({ timeout: 10_000 });
    expect(portal.foreign).toEqual([]);
    expect(portal.errors).toEqual([]);

    // Removing the webhook ends the link: the view says so.
    const response = await api('DELETE', `/api/workers/${workerId}/webhook`, KEY);
    expect(response.status).toBe(200);
    await portal.page.getByText('This portal link has expired or was revoked.').waitFor();
    await portal.context.close();
    await api('PUT', `/api/workers/${workerId}/webhook`, KEY, { url: `${receiver.url}/hooks/handinger` });
  });

  test('portal views may be framed by HANDINGER_PORTAL_FRAME_ANCESTORS only; the console never', async () => {
    const created = await api('POST', `/api/workers/${workerId}/webhook/portal-sessions`, KEY, { expiresInSeconds: 600 });
    expect(created.status).toBe(201);
    const embedding = await open(DESKTOP, { allowForeign: true });
    await embedding.page.goto(`${framing.origin}/?src=${encodeURIComponent(created.body.url)}`);
    const frame = embedding.page.frameLocator('#portal');
    await frame.getByTestId('log-count').filter({ hasText: 'in all' }).waitFor();
    // The console itself refuses to be framed (frame-ancestors 'none'): the frame never shows it.
    await embedding.page.goto(`${framing.origin}/?src=${encodeURIComponent(`${server.baseUrl}/console/`)}`);
    const blocked = embedding.page.frames().find((f) => f !== embedding.page.mainFrame());
    await embedding.page.waitForFunction(() => document.querySelector('iframe') !== null);
    expect(await frame.getByLabel('API key').count()).toBe(0);
    expect(blocked === undefined || !(await blocked.content()).includes('id="app"')).toBe(true);
    await embedding.context.close();
  });

  test('a writable portal link (readOnly: false) operates the webhook, and still cannot change its URL', async () => {
    const created = await api('POST', `/api/workers/${workerId}/webhook/portal-sessions`, KEY, { readOnly: false, expiresInSeconds: 600 });
    const portal = await open(PHONE);
    await portal.page.goto(created.body.url);
    await portal.page.getByText('Portal view of this webhook.').waitFor();
    await portal.page.getByTestId('log-count').filter({ hasText: 'in all' }).waitFor();
    for (const name of ['Send test', 'Disable', 'Rotate secrets…', 'Count', 'Reveal Token']) await portal.page.getByRole('button', { name }).first().waitFor();
    expect(await portal.page.getByRole('button', { name: /Redeliver/ }).count()).toBeGreaterThan(0);
    expect(await portal.page.getByLabel('URL', { exact: true }).count()).toBe(0);
    expect(await portal.page.getByRole('button', { name: 'Create link' }).count()).toBe(0);
    await portal.page.getByRole('button', { name: 'Send test' }).click();
    await portal.page.getByTestId('test-result').locator('[data-verdict]').waitFor();
    await expectNoSidewaysScroll(portal.page);
    expect(portal.foreign).toEqual([]);
    expect(portal.errors).toEqual([]);
    await portal.context.close();
  });

  test('sign out forgets the key; the page is back at sign-in, after a reload too; no foreign request, no console error', async () => {
    const { page } = main;
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('API key').waitFor();
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    await page.reload();
    await page.getByLabel('API key').waitFor();
    expect(main.foreign).toEqual([]);
    expect(main.errors).toEqual([]);
  });
});
