import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { mountSmallFilesystem, runCli, startReceiver, startServerProcess, waitFor, type Receiver, type ServerProcess, type SmallFilesystem } from '@handinger-webhooks/testing';

/**
 * SPEC §7 "Unavailable storage", on a real full disk: a tmpfs filled to the
 * last byte under a running server. Writes are refused with 503 and
 * Retry-After, reads keep working, the outage is logged once rather than
 * per request, and when space returns the server recovers by itself with
 * every acknowledged completion delivered and the database intact.
 */

const USER_KEY = 'hwk_storage_full_test_key_0123456789abcdefghij';

let fs: SmallFilesystem | undefined;
let receiver: Receiver | undefined;
let server: ServerProcess | undefined;
afterEach(async () => {
  await server?.stop('SIGKILL');
  await receiver?.close();
  fs?.remove();
  server = receiver = fs = undefined;
});

async function call(key: string, method: string, path: string, body?: unknown) {
  const response = await fetch(`${server!.baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as any };
}

describe('a full disk', () => {
  it('is a 503 with Retry-After for writes, reads keep working, and the server recovers by itself losing nothing', async () => {
    fs = mountSmallFilesystem(8 * 1024 * 1024);
    const db = fs.file('handinger.db');
    receiver = await startReceiver();
    server = await startServerProcess({
      args: ['serve', '--port', '0', '--db', db, '--allow-private-network'],
      env: { HANDINGER_BOOTSTRAP_KEY: USER_KEY, HANDINGER_RETRY_SCHEDULE: '200ms,200ms,200ms,200ms,200ms' },
    });
    const serviceKey = (await runCli(['keys', 'create', '--service', '--name', 'runner', '--db', db])).stdout.trim();
    const worker = (await call(USER_KEY, 'POST', '/api/workers', { title: 'full disk' })).body;
    expect((await call(USER_KEY, 'PUT', `/api/workers/${worker.id}/webhook`, { url: `${receiver.url}/hook` })).status).toBe(200);

    const accepted: string[] = [];
    const refused: string[] = [];
    const bulky = 'x'.repeat(200 * 1024); // each completion needs ~200 KB of log: the WAL must grow
    const complete = async (taskId: string) => {
      const response = await call(serviceKey, 'POST', '/api/task-completions', { taskId, workerId: worker.id, status: 'completed', output: { bulky } });
      (response.status === 202 ? accepted : refused).push(taskId);
      return response;
    };
    expect((await complete('before-full')).status).toBe(202);
    await waitFor(async () => (await call(USER_KEY, 'GET', `/api/workers/${worker.id}/webhook/executions`)).body.totalCount === 1, {
      message: 'the first delivery recorded',
    });

    fs.fill();
    // The WAL may still have room for a write or two; the next one that needs a new page is refused.
    let first: Awaited<ReturnType<typeof complete>> | undefined;
    for (let i = 0; i < 30 && first === undefined; i++) {
      const response = await complete(`while-full-${i}`);
      if (response.status !== 202) first = response;
    }
    expect(first, 'a write was refused once the disk was full').toBeDefined();
    expect(first!.status).toBe(503);
    expect(first!.body).toEqual({ code: 'SERVICE_UNAVAILABLE', message: 'storage is full: nothing was recorded; retry later' });
    expect(first!.headers.get('retry-after')).toBe('5');

    // Every further write that needs room is refused the same way (a small one may still fit in the
    // WAL file's space, already allocated: that one is durable and answered as usual); reads and health answer as usual.
    for (let i = 0; i < 10; i++) expect((await complete(`refused-${i}`)).status).toBe(503);
    const page = await call(USER_KEY, 'GET', `/api/workers/${worker.id}/webhook/executions`);
    expect(page.status).toBe(200);
    // At least the first delivery; those of completions accepted while the WAL still had room may be recorded too.
    expect(page.body.totalCount).toBeGreaterThanOrEqual(1);
    expect(page.body.totalCount).toBeLessThanOrEqual(accepted.length);
    expect((await call(USER_KEY, 'GET', `/api/workers/${worker.id}/webhook`)).status).toBe(200);
    expect((await fetch(`${server.baseUrl}/healthz`)).status).toBe(200);
    // Logged once (this minute), not once per refused request.
    const outageLines = server.logs.filter((line) => line.msg === 'storage unavailable: refusing writes with 503');
    expect(outageLines).toHaveLength(1);

    // Space returns: writes succeed again without a restart.
    fs.free();
    expect((await complete('after-free')).status).toBe(202);
    const acceptedSet = new Set(accepted);
    await waitFor(() => new Set(receiver!.requests.map((r) => JSON.parse(r.body).data.taskId)).size >= acceptedSet.size, {
      timeoutMs: 30_000,
      message: 'every accepted completion delivered after recovery',
    });
    const delivered = new Set(receiver.requests.map((r) => JSON.parse(r.body).data.taskId as string));
    expect([...acceptedSet].every((taskId) => delivered.has(taskId))).toBe(true);
    expect(refused.some((taskId) => delivered.has(taskId))).toBe(false);

    // Stopped cleanly, the file is intact and holds exactly the acknowledged completions.
    await server.stop('SIGTERM');
    server = undefined;
    const file = new Database(db, { readonly: true });
    try {
      expect(file.pragma('integrity_check', { simple: true })).toBe('ok');
      const recorded = file.prepare("SELECT stream_id FROM events WHERE type = 'TaskCompleted'").all() as { stream_id: string }[];
      expect(new Set(recorded.map((r) => r.stream_id.replace(/^task-/, '')))).toEqual(acceptedSet);
    } finally {
      file.close();
    }
  });
});
