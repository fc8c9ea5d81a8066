export { createTempDir } from './temp-dir.js';
export { startServerProcess, runCli, readStatusMb, CLI_PATH, type ServerProcess, type CliResult } from './server-process.js';
export { startReceiver, type Receiver, type ReceiverOptions, type ReceivedRequest, type Reply, type ReplyHandler } from './receiver.js';
export { waitFor } from './wait-for.js';
export { mountSmallFilesystem, type SmallFilesystem } from './small-filesystem.js';
export {
  startPostgres,
  testPostgresDatabase,
  testPostgresAdminUrl,
  createPostgresDatabase,
  dropPostgresDatabase,
  postgresDatabaseUrl,
  withDatabase,
  uniqueDatabaseName,
  findPostgresBinDir,
  TEST_POSTGRES_URL_ENV,
  TEST_POSTGRES_PROVIDE_KEY,
  type PostgresServer,
  type StartPostgresOptions,
} from './postgres-server.js';
export { TEST_BACKENDS, TEST_SECRET_KEY, createTestDatabase, type TestBackend, type TestDatabase } from './backends.js';
export { parseMetrics, scrapeMetrics, type MetricSample, type Scrape } from './metrics-scrape.js';
export { findChromium, chromiumArgs } from './chromium.js';
export { callApi } from './api-call.js';
