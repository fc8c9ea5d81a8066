import type { TestProject } from 'vitest/node';
import { startPostgres, TEST_POSTGRES_PROVIDE_KEY, TEST_POSTGRES_URL_ENV } from './postgres-server.js';

/**
 * Vitest global setup (root vitest.config.ts `test.globalSetup`): one throwaway
 * PostgreSQL server for the whole run. Test files reach it through
 * `testPostgresDatabase()`, `inject('handingerTestPostgresUrl')` or
 * `process.env.HANDINGER_TEST_POSTGRES_URL` (also inherited by the processes
 * tests spawn). Stopped and removed at teardown.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await startPostgres();
  const previous = process.env[TEST_POSTGRES_URL_ENV];
  process.env[TEST_POSTGRES_URL_ENV] = server.adminUrl;
  project.provide(TEST_POSTGRES_PROVIDE_KEY, server.adminUrl);
  return async () => {
    if (previous === undefined) delete process.env[TEST_POSTGRES_URL_ENV];
    else process.env[TEST_POSTGRES_URL_ENV] = previous;
    await server.stop();
  };
}
