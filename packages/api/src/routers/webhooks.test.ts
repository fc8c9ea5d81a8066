import Handinger from '@ramensoft/handinger';
import { EXECUTIONS_PAGE_SIZE, NO_WEBHOOK } from '@handinger-webhooks/contracts';
import { openWebhookSecrets } from '@handinger-webhooks/secrets';
import { TEST_BACKENDS } from '@handinger-webhooks/testing';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestApi, type TestApi } from '../test-support/api-server.js';
import { seedExecutions } from '../test-support/executions.js';

/** SPEC §5: ≥ 32 random bytes, base64url. */
function expectToken(token: string | null): void {
  expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
  expect(Buffer.from(token!, 'base64url').length).toBeGreaterThanOrEqual(32);
}

/** SPEC §5: `whsec_` + base64 of 32 random bytes. */
function expectSigningSecret(secret: string | null): void {
  expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+={0,2}$/);
  expect(Buffer.from(secret!.slice('whsec_'.length), 'base64').length).toBe(32);
}

describe.each(TEST_BACKENDS)('%s', (backend) => {
  let api: TestApi;
  let key: string;
  let sdk: Handinger;

  beforeAll(async () => {
    api = await startTestApi({ backend });
    key = await api.userKey('org_hooks', 'user_1');
    sdk = api.sdk(key);
  });
  afterAll(() => api?.close());

  const newWorker = async () => (await sdk.workers.create({ title: 'webhooks' })).id;

  describe('token semantics (official SDK)', () => {
    test('first set mints a token and a signing secret; a later URL change keeps them', async () => {
      const workerId = await newWorker();
      expect(await sdk.workers.webhooks.retrieve(workerId)).toEqual(NO_WEBHOOK);

      const first = await sdk.workers.webhooks.update(workerId, { url: 'https://example.com/a' });
      expect(first.url).toBe('https://example.com/a');
      expectToken(first.token);
      expectSigningSecret((first as typeof first & { signingSecret: string | null }).signingSecret);

      const moved = await sdk.workers.webhooks.update(workerId, { url: 'https://example.com/b' });
      expect(moved).toEqual({ ...first, url: 'https://example.com/b' });
      expect(await sdk.workers.webhooks.retrieve(workerId)).toEqual(moved);

      const head = await api.app.log.headPosition();
      expect(await sdk.workers.webhooks.update(workerId, { url: 'https://example.com/b' })).toEqual(moved);
      expect(await api.app.log.headPosition()).toBe(head); // nothing changed, nothing appended
    });

    test('url null clears the webhook; setting it again mints fresh secrets', async () => {
      const workerId = await newWorker();
      const first = await sdk.workers.webhooks.update(workerId, { url: 'https://example.com/a' });
      expect(await sdk.workers.webhooks.update(workerId, { url: null })).toEqual(NO_WEBHOOK);
      expect(await sdk.workers.webhooks.retrieve(workerId)).toEqual(NO_WEBHOOK);

      const again = await sdk.workers.webhooks.update(workerId, { url: 'https://example.com/a' }) as typeof first & { signingSecret: string };
      expectToken(again.token);
      expectSigningSecret(again.signingSecret);
      expect(again.token).not.toBe(first.token);
      expect(again.signingSecret).not.toBe((first as typeof again).signingSecret);
    });

    test('the read model holds the secrets sealed; opened, they are the ones the API returns (SPEC §7)', async () => {
      const workerId = await newWorker();
      const set = await sdk.workers.webhooks.update(workerId, { url: 'https://example.com/sealed' }) as { token: string; url: string; signingSecret: string };
      const row = (await api.app.readModels.webhook(workerId))!;
      expect(row.url).toBe(set.url);
      expect(row.token).not.toContain(set.token);
      expect(row.signing_secret).not.toContain(set.signingSecret);
      expect(openWebhookSecrets(api.app.secretBox, workerId, { token: row.token, signingSecret: row.signing_secret })).toEqual({
        token: set.token,
        signingSecret: set.signingSecret,
      });
    });

    test('regenerate keeps the URL and replaces both secrets', async () => {
      const workerId = await newWorker();
      const before = await sdk.workers.webhooks.update(workerId, { url: 'https://example.com/a' }) as { token: string; url: string; signingSecret: string };
      const after = await sdk.workers.webhooks.regenerateToken(workerId) as typeof before;
      expect(after.url).toBe(before.url);
      expectToken(after.token);
      expectSigningSecret(after.signingSecret);
      expect(after.token).not.toBe(before.token);
      expect(after.signingSecret).not.toBe(before.signingSecret);
      expect(await sdk.workers.webhooks.retrieve(workerId)).toEqual(after);
    });

    test('DELETE returns nulls and the webhook is gone', async () => {
      const workerId = await newWorker();
      await sdk.workers.webhooks.update(workerId, { url: 'https://example.com/a' });
      expect(await sdk.workers.webhooks.delete(workerId)).toEqual(NO_WEBHOOK);
      expect(await sdk.workers.webhooks.retrieve(workerId)).toEqual(NO_WEBHOOK);
      expect(await api.app.readModels.webhook(workerId)).toBeUndefined();
    });

    test('regenerate without a webhook is a 409 the SDK does not retry', async () => {
      const workerId = await newWorker();
      const head = await api.app.log.headPosition();
      const requestsBefore = api.requestCount();
      const error = await sdk.workers.webhooks.regenerateToken(workerId).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Handinger.ConflictError);
      expect((error as InstanceType<typeof Handinger.ConflictError>).error).toEqual({ code: 'CONFLICT', message: 'no webhook is configured for this worker' });
      expect(api.requestCount() - requestsBefore).toBe(1);
      expect(await api.app.log.headPosition()).toBe(head);
    });

    test('the typed client sees the same lifecycle', async () => {
      const workerId = await newWorker();
      const trpc = api.trpc(key);
      const set = await trpc.workers.webhooks.update.mutate({ workerId, url: 'https://example.com/t' });
      expect(await trpc.workers.webhooks.retrieve.query({ workerId })).toEqual(set);
      expect(await sdk.workers.webhooks.retrieve(workerId)).toEqual(set);
      const rotated = await trpc.workers.webhooks.regenerateToken.mutate({ workerId });
      expect(rotated.url).toBe(set.url);
      expect(rotated.token).not.toBe(set.token);
      expect(await trpc.workers.webhooks.delete.mutate({ workerId })).toEqual(NO_WEBHOOK);
      await expect(trpc.workers.webhooks.regenerateToken.mutate({ workerId })).rejects.toMatchObject({
        message: 'no webhook is configured for this worker',
        data: { code: 'CONFLICT', httpStatus: 409 },
      });
    });
  });

  describe('execution log', () => {
    const TOTAL = 2 * EXECUTIONS_PAGE_SIZE + 20;
    let workerId: string;

    beforeAll(async () => {
      workerId = await newWorker();
      const url = 'https://example.com/log';
      await sdk.workers.webhooks.update(workerId, { url });
      const start = Date.parse('2024-03-01T00:00:00.000Z');
      await seedExecutions(
        api.app,
        workerId,
        Array.from({ length: TOTAL }, (_, i) => ({
          taskId: `task-${String(i).padStart(3, '0')}`,
          taskTitle: `Task ${i}`,
          startedAt: new Date(start + i * 1000).toISOString(),
          durationMs: 10 + i,
          url,
          responseStatus: i % 3 === 0 ? 500 : 200,
        })),
      );
    });

    test('page defaults to 1: the 50 newest, with counts', async () => {
      const page = await sdk.workers.webhooks.listExecutions(workerId);
      expect(page).toMatchObject({ page: 1, pageCount: 3, totalCount: TOTAL });
      expect(page.logs).toHaveLength(EXECUTIONS_PAGE_SIZE);
      expect(page.logs[0]).toMatchObject({ taskId: `task-${TOTAL - 1}`, createdAt: new Date(Date.parse('2024-03-01T00:00:00.000Z') + (TOTAL - 1) * 1000).toISOString(), workerId });
      const times = page.logs.map((log) => log.createdAt);
      expect([...times].sort().reverse()).toEqual(times);
      const failed = page.logs.find((log) => log.responseStatus === 500)!;
      expect(failed).toMatchObject({ requestStatus: 'error', errorMessage: 'HTTP 500' });
      expect(failed.id).toMatch(/^whe_[0-9A-HJKMNP-TV-Z]{26}$/);
    });

    test('later pages, the last partial page, and a page past the end', async () => {
      expect((await sdk.workers.webhooks.listExecutions(workerId, { page: 2 })).logs[0]!.taskId).toBe(`task-${String(TOTAL - 1 - EXECUTIONS_PAGE_SIZE).padStart(3, '0')}`);
      const last = await sdk.workers.webhooks.listExecutions(workerId, { page: 3 });
      expect(last.logs).toHaveLength(20);
      expect(last.logs.at(-1)!.taskId).toBe('task-000');
      expect(await sdk.workers.webhooks.listExecutions(workerId, { page: 4 })).toEqual({ logs: [], page: 4, pageCount: 3, totalCount: TOTAL });
      expect(await sdk.workers.webhooks.listExecutions(workerId, { page: 1000 })).toEqual({ logs: [], page: 1000, pageCount: 3, totalCount: TOTAL });
    });

    test('the typed client reads the same pages', async () => {
      const trpc = api.trpc(key);
      for (const page of [1, 2, 3, 4]) {
        expect(await trpc.workers.webhooks.listExecutions.query({ workerId, page })).toEqual(await sdk.workers.webhooks.listExecutions(workerId, { page }));
      }
      expect(await trpc.workers.webhooks.listExecutions.query({ workerId })).toEqual(await sdk.workers.webhooks.listExecutions(workerId));
    });

    test('an empty log', async () => {
      expect(await sdk.workers.webhooks.listExecutions(await newWorker())).toEqual({ logs: [], page: 1, pageCount: 0, totalCount: 0 });
    });
  });
});
