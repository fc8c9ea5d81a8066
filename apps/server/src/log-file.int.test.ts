import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestDatabase, runCli, startReceiver, startServerProcess, waitFor, type Receiver, type ServerProcess, type TestDatabase } from '@handinger-webhooks/testing';

/**
 * SPEC §12: the log as a file. SQLite → export → import into PostgreSQL (and
 * back) → every API response identical; secrets stay sealed in the file; an
 * import refuses a non-empty database, a malformed line (naming it) and a
 * wrong key, changing nothing.
 */

// Several CLI runs and three servers per test: minutes, not seconds, on a loaded 2-core CI machine.
const MULTI_PROCESS_TIMEOUT_MS = 120_000;
const USER_KEY = 'hwk_log_file_test_key_0123456789abcdefghijklm';
const databases: TestDatabase[] = [];
const servers: ServerProcess[] = [];
let receiver: Receiver | undefined;
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop('SIGKILL')));
  await receiver?.close();
  for (const d of databases.splice(0)) await d.drop();
});

async function database(backend: 'sqlite' | 'postgres') {
  const d = await createTestDatabase(backend);
  databases.push(d);
  return d;
}

async function serve(d: TestDatabase) {
  const server = await startServerProcess({
    args: ['serve', '--port', '0', '--allow-private-network'],
    env: { ...d.env, HANDINGER_BOOTSTRAP_KEY: USER_KEY, HANDINGER_RETRY_SCHEDULE: '100ms' },
  });
  servers.push(server);
  return server;
}

async function text(server: ServerProcess, key: string, method: string, path: string, body?: unknown): Promise<{ status: number; text: string }> {
  const response = await fetch(`${server.baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, text: await response.text() };
}

/** Every read response a client could ask for, as the bytes the server sent. */
async function everyResponse(server: ServerProcess, workers: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const w of workers) {
    out.push((await text(server, USER_KEY, 'GET', `/api/workers/${w}/webhook`)).text);
    for (const page of [1, 2, 3]) out.push((await text(server, USER_KEY, 'GET', `/api/workers/${w}/webhook/executions?page=${page}`)).text);
  }
  return out;
}

/** A SQLite installation with one worker and its webhook, stopped, and its log exported to a file. */
async function smallExportedLog(): Promise<{ source: TestDatabase; file: string }> {
  const source = await database('sqlite');
  const server = await serve(source);
  const worker = JSON.parse((await text(server, USER_KEY, 'POST', '/api/workers', { title: 'w' })).text);
  await text(server, USER_KEY, 'PUT', `/api/workers/${worker.id}/webhook`, { url: 'https://example.com/h' });
  await server.stop();
  servers.length = 0;
  const file = `${source.dir!.path}/log.ndjson`;
  expect((await runCli(['export-log', '--out', file], { env: source.env })).status).toBe(0);
  return { source, file };
}

describe('export-log and import-log', () => {
  it('move an installation from SQLite to PostgreSQL and back with every API response identical', async () => {
    const source = await database('sqlite');
    receiver = await startReceiver((request) => ({ status: JSON.parse(request.body).data.taskId.endsWith('0') ? 500 : 200 }));
    const server = await serve(source);
    const service = (await runCli(['keys', 'create', '--service', '--name', 'runner'], { env: source.env })).stdout.trim();
    const workers: string[] = [];
    for (let w = 0; w < 3; w++) {
      const worker = JSON.parse((await text(server, USER_KEY, 'POST', '/api/workers', { title: `w${w}` })).text);
      workers.push(worker.id);
      await text(server, USER_KEY, 'PUT', `/api/workers/${worker.id}/webhook`, { url: `${receiver.url}/hook/${w}` });
      if (w === 1) await text(server, USER_KEY, 'POST', `/api/workers/${worker.id}/webhook/regenerate-token`);
    }
    for (let i = 0; i < 60; i++) {
      expect((await text(server, service, 'POST', '/api/task-completions', { taskId: `task_${i}`, workerId: workers[i % 3], status: 'completed', output: { i, é: '✓' } })).status).toBe(202);
    }
    // 60 notifications; those of tasks ending in 0 fail and are retried once: 66 executions in all.
    await waitFor(async () => {
      let total = 0;
      for (const w of workers) total += JSON.parse((await text(server, USER_KEY, 'GET', `/api/workers/${w}/webhook/executions`)).text).totalCount;
      return total === 66;
    });
    const before = await everyResponse(server, workers);
    await server.stop();
    servers.length = 0;

    const file = `${source.dir!.path}/log.ndjson`;
    const exported = await runCli(['export-log', '--out', file], { env: source.env });
    expect(exported.status).toBe(0);
    expect(exported.stderr).toMatch(/^exported \d+ events to /);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    const first = JSON.parse(lines[0]!);
    expect(Object.keys(first).sort()).toEqual(['data', 'metadata', 'position', 'stream', 'streamPosition', 'time', 'type']);
    const positions = lines.map((line) => JSON.parse(line).position as number);
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
    // Secrets travel sealed: no token or signing secret the API showed is in the file.
    for (const response of before.filter((r) => r.includes('"token"'))) {
      const { token, signingSecret } = JSON.parse(response);
      expect(readFileSync(file, 'utf8')).not.toContain(token);
      expect(readFileSync(file, 'utf8')).not.toContain(signingSecret.slice('whsec_'.length));
    }

    // Into PostgreSQL, with the source's key file.
    const target = await database('postgres');
    const imported = await runCli(['import-log', '--in', file, '--key-file', `${source.db}.key`], { env: { HANDINGER_DB_PATH: target.db } });
    expect(imported.stderr).toBe('');
    expect(imported.stdout).toBe(`imported ${lines.length} events and built the read models\n`);
    const onPostgres = await serve({ ...target, env: { ...target.env, HANDINGER_SECRET_KEY: readFileSync(`${source.db}.key`, 'utf8').trim() } });
    expect(await everyResponse(onPostgres, workers)).toEqual(before);
    expect((await runCli(['rebuild-projections', '--verify'], { env: target.env })).status).toBe(0);

    // And back into a new SQLite file, whose key file is the source's key.
    const exportedAgain = `${source.dir!.path}/again.ndjson`;
    expect((await runCli(['export-log', '--out', exportedAgain], { env: { ...target.env, HANDINGER_SECRET_KEY: readFileSync(`${source.db}.key`, 'utf8').trim() } })).status).toBe(0);
    expect(readFileSync(exportedAgain, 'utf8')).toBe(readFileSync(file, 'utf8'));
    const back = await database('sqlite');
    const backImport = await runCli(['import-log', '--in', exportedAgain], { env: { HANDINGER_DB_PATH: back.db, HANDINGER_SECRET_KEY: readFileSync(`${source.db}.key`, 'utf8').trim() } });
    expect(backImport.status).toBe(0);
    expect(readFileSync(`${back.db}.key`, 'utf8').trim()).toBe(readFileSync(`${source.db}.key`, 'utf8').trim());
    expect(statSync(`${back.db}.key`).mode & 0o777).toBe(0o600);
    const onSqlite = await serve(back);
    expect(await everyResponse(onSqlite, workers)).toEqual(before);
  }, MULTI_PROCESS_TIMEOUT_MS);

  it('exports to stdout and imports from stdin, on both backends, the same log as through files', async () => {
    const { source, file } = await smallExportedLog();
    const toStdout = await runCli(['export-log'], { env: source.env });
    expect(toStdout.status).toBe(0);
    expect(toStdout.stdout).toBe(readFileSync(file, 'utf8'));
    const events = (ndjson: string) =>
      ndjson
        .trimEnd()
        .split('\n')
        .map((line) => {
          const { stream, streamPosition, type, data, metadata } = JSON.parse(line);
          return { stream, streamPosition, type, data, metadata };
        });
    const secretKey = readFileSync(`${source.db}.key`, 'utf8').trim();

    for (const backend of ['sqlite', 'postgres'] as const) {
      const target = await database(backend);
      const env = { HANDINGER_DB_PATH: target.db, HANDINGER_SECRET_KEY: secretKey };
      const imported = await runCli(['import-log'], { env, stdin: toStdout.stdout });
      expect(imported.status).toBe(0);
      expect(imported.stdout).toBe(`imported ${events(toStdout.stdout).length} events and built the read models\n`);
      const again = await runCli(['export-log'], { env });
      expect(again.status).toBe(0);
      expect(events(again.stdout)).toEqual(events(toStdout.stdout));
    }
  }, MULTI_PROCESS_TIMEOUT_MS);

  it('export and import in memory that does not grow with the log (SPEC §12: flat memory for any size)', async () => {
    const { source, file } = await smallExportedLog();
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    const worker = JSON.parse(lines.find((line) => JSON.parse(line).type === 'WorkerCreated')!);
    // The small log, then `extra` more workers created: a log of any size, valid event by event.
    const logOf = (extra: number): string => {
      const path = `${source.dir!.path}/log-${extra}.ndjson`;
      const more = Array.from({ length: extra }, (_, i) => {
        const workerId = `${worker.data.workerId}_${i}`;
        return JSON.stringify({ ...worker, position: lines.length + i + 1, stream: `worker-${workerId}`, data: { ...worker.data, workerId, title: `w${i}` } });
      });
      writeFileSync(path, [...lines, ...more].join('\n') + '\n');
      return path;
    };
    const peaks = async (extra: number) => {
      const target = await database('sqlite');
      const imported = await runCli(['import-log', '--in', logOf(extra), '--key-file', `${source.db}.key`], { env: { HANDINGER_DB_PATH: target.db }, measurePeakRss: true });
      expect(imported.status).toBe(0);
      const again = `${target.dir!.path}/again.ndjson`;
      const exported = await runCli(['export-log', '--out', again], { env: target.env, measurePeakRss: true });
      expect(exported.status).toBe(0);
      expect(readFileSync(again, 'utf8').trimEnd().split('\n')).toHaveLength(lines.length + extra);
      return { importMb: imported.peakRssMb!, exportMb: exported.peakRssMb! };
    };
    // V8 grows its heap over the first tens of thousands of events whatever the code does (measured: +32 MB
    // from 2,000 to 50,000 events, +3 MB to 100,000, +12 MB to 200,000), so the sizes compared start past that.
    // SQLite only: an import into PostgreSQL runs ≈2,500 events/s here, minutes for sizes past V8's heap growth.
    const medium = await peaks(50_000);
    const large = await peaks(200_000); // ≈80 MB of NDJSON: held whole it would take several times that
    expect(medium.importMb).toBeGreaterThan(0);
    expect(large.importMb - medium.importMb).toBeLessThan(40);
    expect(large.exportMb - medium.exportMb).toBeLessThan(40);
  }, MULTI_PROCESS_TIMEOUT_MS);

  it('refuses a malformed line, a wrong key and a non-empty database, changing nothing', async () => {
    const { source, file } = await smallExportedLog();
    const good = readFileSync(file, 'utf8');
    const keyFile = `${source.db}.key`;

    for (const backend of ['sqlite', 'postgres'] as const) {
      const target = await database(backend);
      const importing = (path: string, extra: string[] = []) => runCli(['import-log', '--in', path, ...extra], { env: { HANDINGER_DB_PATH: target.db } });
      const lines = good.trimEnd().split('\n');
      const broken = `${source.dir!.path}/broken-${backend}.ndjson`;
      writeFileSync(broken, [...lines.slice(0, 2), '{"position": "three"}', ...lines.slice(2)].join('\n') + '\n');
      const malformed = await importing(broken, ['--key-file', keyFile]);
      expect(malformed.status).toBe(1);
      expect(malformed.stderr).toBe('handinger-webhooks: line 3: position must be a positive integer\n');

      const wrongKey = `${source.dir!.path}/wrong-${backend}.key`;
      writeFileSync(wrongKey, Buffer.alloc(32, 1).toString('base64'));
      const refused = await importing(file, ['--key-file', wrongKey]);
      expect(refused.status).toBe(1);
      expect(refused.stderr).toMatch(/^handinger-webhooks: the secret key from the key file .* does not open the secrets of this log \(line \d+\)/);

      const noKey = await importing(file);
      expect(noKey.status).toBe(2);
      expect(noKey.stderr).toMatch(/import-log needs the source database's secret key/);

      // Nothing of those attempts was written: a correct import still works, once.
      expect((await importing(file, ['--key-file', keyFile])).status).toBe(0);
      const again = await importing(file, ['--key-file', keyFile]);
      expect(again.status).toBe(1);
      expect(again.stderr).toMatch(/^handinger-webhooks: the database is not empty \(it holds \d+ events\)/);
    }
  }, MULTI_PROCESS_TIMEOUT_MS);
});
