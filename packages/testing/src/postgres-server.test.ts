import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import pg from 'pg';
import { describe, expect, inject, it } from 'vitest';
import { startPostgres, testPostgresDatabase, TEST_POSTGRES_URL_ENV } from './postgres-server.js';

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

describe('the shared PostgreSQL test server (vitest global setup)', () => {
  it('is provided to test files, by inject() and by environment variable, and is reachable', async () => {
    const provided = inject('handingerTestPostgresUrl');
    expect(provided).toMatch(/^postgres:\/\/postgres@localhost:\d+\/postgres\?host=\//);
    expect(process.env[TEST_POSTGRES_URL_ENV]).toBe(provided);
    const [row] = await query<{ version: string; fsync: string }>(provided, "SELECT version() AS version, current_setting('fsync') AS fsync");
    expect(row?.version).toMatch(/^PostgreSQL \d+/);
    expect(row?.fsync).toBe('off');
  });

  it('reaches processes spawned by tests through the environment', () => {
    const child = spawnSync(process.execPath, ['-e', `process.stdout.write(process.env.${TEST_POSTGRES_URL_ENV} ?? '')`], { encoding: 'utf8' });
    expect(child.stdout).toBe(inject('handingerTestPostgresUrl'));
  });

  it('gives each caller its own, isolated database, and drop() removes it', async () => {
    const a = await testPostgresDatabase();
    const b = await testPostgresDatabase();
    expect(a.url).not.toBe(b.url);
    await query(a.url, 'CREATE TABLE t (v text); INSERT INTO t VALUES (\'in a\')');
    expect(await query(a.url, 'SELECT v FROM t')).toEqual([{ v: 'in a' }]);
    await expect(query(b.url, 'SELECT v FROM t')).rejects.toThrow(/relation "t" does not exist/);
    const open = new pg.Client({ connectionString: a.url });
    open.on('error', () => undefined);
    await open.connect(); // drop() must not be blocked by a connection left open
    await a.drop();
    await expect(query(a.url, 'SELECT 1')).rejects.toThrow(/database "[^"]+" does not exist/);
    await open.end().catch(() => undefined);
    expect(await query(b.url, 'SELECT 1 AS one')).toEqual([{ one: 1 }]);
    await b.drop();
    await b.drop(); // idempotent
  });
});

describe('startPostgres', () => {
  it('starts a private server that stop() shuts down and removes', async () => {
    const server = await startPostgres({ port: 54400 });
    try {
      const url = await server.createDatabase('my_db');
      expect(url).toBe(server.databaseUrl('my_db'));
      expect(await query(url, 'SELECT current_database() AS db')).toEqual([{ db: 'my_db' }]);
      expect(existsSync(`${server.socketDir}/.s.PGSQL.54400`)).toBe(true);
    } finally {
      await server.stop();
    }
    expect(existsSync(server.socketDir)).toBe(false);
    await expect(query(server.adminUrl, 'SELECT 1')).rejects.toThrow();
    await server.stop(); // idempotent
  });

  it('fails with the command and the tail of the server log when the server cannot start', async () => {
    const failure = startPostgres({ settings: { shared_buffers: 'not-a-size' } });
    await expect(failure).rejects.toThrow(/pg_ctl start[\s\S]*invalid value for parameter "shared_buffers"/);
  });
});
