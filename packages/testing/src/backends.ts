import { createTempDir } from './temp-dir.js';
import { testPostgresDatabase } from './postgres-server.js';

/** The storage backends every storage-dependent suite runs against (SPEC §11: same behaviour on both). */
export type TestBackend = 'sqlite' | 'postgres';
export const TEST_BACKENDS: readonly TestBackend[] = ['sqlite', 'postgres'];

/** The secret key tests use on PostgreSQL (which requires `HANDINGER_SECRET_KEY`): fixed, so child processes share it. */
export const TEST_SECRET_KEY = Buffer.alloc(32, 0x5a).toString('base64');

/** A fresh, empty database of one backend, with what opening it needs. */
export interface TestDatabase {
  backend: TestBackend;
  /** The `--db` value: a SQLite file in a fresh temp dir, or a new database's URL on the shared test server. */
  db: string;
  /** `HANDINGER_SECRET_KEY` to use (PostgreSQL requires it; SQLite uses its key file). */
  secretKey: string | undefined;
  /** The environment a CLI child process needs for this database (`HANDINGER_DB_PATH`, `HANDINGER_SECRET_KEY`). */
  env: Record<string, string>;
  /** For SQLite: the temp dir holding the file (for other files a test wants beside it). */
  dir: ReturnType<typeof createTempDir> | null;
  /** Removes it (the temp dir, or the PostgreSQL database). */
  drop(): Promise<void>;
}

/**
 * A fresh database for `backend`. PostgreSQL comes from the server the
 * test run started (vitest global setup); without one this fails, never skips.
 */
export async function createTestDatabase(backend: TestBackend, fileName = 'handinger.db'): Promise<TestDatabase> {
  if (backend === 'sqlite') {
    const dir = createTempDir('handinger-test-');
    const db = dir.file(fileName);
    return { backend, db, secretKey: undefined, env: { HANDINGER_DB_PATH: db }, dir, drop: async () => dir.remove() };
  }
  const database = await testPostgresDatabase();
  return {
    backend,
    db: database.url,
    secretKey: TEST_SECRET_KEY,
    env: { HANDINGER_DB_PATH: database.url, HANDINGER_SECRET_KEY: TEST_SECRET_KEY },
    dir: null,
    drop: database.drop,
  };
}
