import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, appendFileSync, chownSync, constants, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import pg from 'pg';

/**
 * A throwaway PostgreSQL cluster for tests: its own data directory, reachable
 * only through a Unix socket (no TCP), trust auth, durability switched off.
 *
 * Connection URLs look like
 *   postgres://postgres@localhost:54329/<database>?host=/tmp/hw-pg-AbC123
 * The `host` query parameter (a directory) overrides the authority's
 * `localhost`, so `pg` and libpq (`psql`) connect through the socket
 * `<host>/.s.PGSQL.<port>`; the authority is there so the string is also a
 * valid WHATWG `new URL()`.
 */
export interface PostgresServer {
  /** Directory holding the socket `.s.PGSQL.<port>`. */
  socketDir: string;
  /** Only names the socket file: the server does not listen on TCP. */
  port: number;
  /** The cluster's data directory (removed by `stop()`). */
  dataDir: string;
  /** The server's log file (inside `dataDir`). */
  logFile: string;
  /** Superuser `postgres` on the `postgres` database. */
  adminUrl: string;
  /** The URL of `database` on this server (whether or not it exists). */
  databaseUrl(database: string): string;
  /** Creates a fresh, empty database (a unique name unless given) and returns its URL. */
  createDatabase(name?: string): Promise<string>;
  /** Drops a database, closing any connections still open to it. No error if it does not exist. */
  dropDatabase(name: string): Promise<void>;
  /** Stops the server at once (`pg_ctl stop -m immediate`) and removes its directory. Idempotent. */
  stop(): Promise<void>;
  /** Takes the server down like a crash (`pg_ctl stop -m immediate`), keeping its data, for an outage test. */
  pause(): Promise<void>;
  /** Starts a paused server again on the same data. */
  resume(): Promise<void>;
}

export interface StartPostgresOptions {
  /** Directory with `initdb`, `pg_ctl` and `postgres`; found automatically when omitted. */
  binDir?: string;
  /** Names the socket file only (default 54329). */
  port?: number;
  /** Extra `postgresql.conf` settings, applied after the defaults. */
  settings?: Record<string, string | number | boolean>;
  /** How long to wait for the server to accept connections (default 30 s). */
  startTimeoutMs?: number;
}

const DEFAULT_PORT = 54329;
const SUPERUSER = 'postgres';
const OS_USER = 'postgres';
/** sockaddr_un.sun_path is 108 bytes on Linux (104 on macOS), NUL included. */
const MAX_SOCKET_PATH = 100;

const DEFAULT_SETTINGS: Record<string, string | number | boolean> = {
  listen_addresses: '',
  fsync: false,
  synchronous_commit: false,
  full_page_writes: false,
  wal_level: 'minimal',
  max_wal_senders: 0,
  max_connections: 200,
  shared_buffers: '32MB',
  max_wal_size: '1GB',
  checkpoint_timeout: '30min',
  // Logging goes to the file given to `pg_ctl -l`.
  logging_collector: false,
  log_min_messages: 'warning',
  log_line_prefix: '%m [%p] ',
};

/** Synchronous stoppers of the servers this process started and has not stopped yet. */
const runningServers = new Set<() => void>();
let exitHookInstalled = false;

function trackUntilExit(stopSync: () => void): void {
  runningServers.add(stopSync);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const stop of [...runningServers]) {
      try {
        stop();
      } catch {
        // best effort
      }
    }
  });
}

const isRoot = (): boolean => typeof process.getuid === 'function' && process.getuid() === 0;

/** Starts a throwaway PostgreSQL server (≈1 s: initdb + start). Throws with the failing command and the log's tail. */
export async function startPostgres(options: StartPostgresOptions = {}): Promise<PostgresServer> {
  const binDir = options.binDir ?? findPostgresBinDir();
  const port = options.port ?? DEFAULT_PORT;
  const asRoot = isRoot();
  const root = makeRootDir(port, asRoot);
  const dataDir = join(root, 'data');
  const logFile = join(dataDir, 'postgres.log');
  const socketDir = root;
  const wrap = (file: string, args: string[]): [string, string[]] =>
    asRoot ? ['runuser', ['-u', OS_USER, '--', file, ...args]] : [file, args];
  const stopCommand = wrap(join(binDir, 'pg_ctl'), ['stop', '-D', dataDir, '-m', 'immediate', '-w', '-t', '10']);
  const startCommand = wrap(join(binDir, 'pg_ctl'), ['start', '-D', dataDir, '-l', logFile, '-w', '-t', String(Math.ceil((options.startTimeoutMs ?? 30_000) / 1000))]);

  let stopped = false;
  let watchdog: ChildProcess | undefined;
  const stopSync = (): void => {
    if (stopped) return;
    stopped = true;
    runningServers.delete(stopSync);
    if (existsSync(join(dataDir, 'postmaster.pid'))) spawnSync(stopCommand[0], stopCommand[1], { stdio: 'ignore', timeout: 15_000 });
    rmSync(root, { recursive: true, force: true });
    releaseWatchdog(watchdog);
  };

  try {
    if (asRoot) chownToPostgres(root);
    await run(wrap(join(binDir, 'initdb'), ['-D', dataDir, '-U', SUPERUSER, '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions']));
    const settings: Record<string, string | number | boolean> = {
      ...DEFAULT_SETTINGS,
      port,
      unix_socket_directories: socketDir,
      ...options.settings,
    };
    appendFileSync(
      join(dataDir, 'postgresql.conf'),
      '\n# handinger-webhooks test server\n' + Object.entries(settings).map(([key, value]) => `${key} = ${confValue(value)}\n`).join(''),
    );
    // Best effort against runs that die without cleaning up: on normal exit, and (watchdog) on SIGKILL/SIGTERM.
    trackUntilExit(stopSync);
    watchdog = startWatchdog(stopCommand, root);
    await run(startCommand, logFile);
  } catch (error) {
    stopSync();
    throw error;
  }

  const databaseUrl = (database: string): string => postgresDatabaseUrl(socketDir, port, database);
  const adminUrl = databaseUrl('postgres');
  return {
    socketDir,
    port,
    dataDir,
    logFile,
    adminUrl,
    databaseUrl,
    createDatabase: (name?: string) => createPostgresDatabase(adminUrl, name),
    dropDatabase: (name: string) => dropPostgresDatabase(adminUrl, name),
    pause: async () => {
      await run(stopCommand, logFile);
    },
    resume: async () => {
      await run(startCommand, logFile);
    },
    stop: async () => {
      if (stopped) return;
      if (existsSync(join(dataDir, 'postmaster.pid'))) await run(stopCommand, logFile).catch(() => undefined);
      stopSync();
    },
  };
}

/** `postgres://postgres@localhost:<port>/<database>?host=<socketDir>`; see {@link PostgresServer}. */
export function postgresDatabaseUrl(socketDir: string, port: number, database: string, user = SUPERUSER): string {
  const host = encodeURIComponent(socketDir).replace(/%2F/gi, '/');
  return `postgres://${encodeURIComponent(user)}@localhost:${port}/${encodeURIComponent(database)}?host=${host}`;
}

/** The same server and credentials as `url`, another database. */
export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = '/' + encodeURIComponent(database);
  return parsed.toString();
}

let databaseCounter = 0;

/** A fresh database name that no other process or test will pick. */
export function uniqueDatabaseName(prefix = 'test'): string {
  return `${prefix}_${process.pid}_${++databaseCounter}_${randomBytes(4).toString('hex')}`;
}

/** Creates a fresh database on the server of `adminUrl` and returns its URL. */
export async function createPostgresDatabase(adminUrl: string, name: string = uniqueDatabaseName()): Promise<string> {
  await withAdmin(adminUrl, async (client) => {
    // FILE_COPY (PostgreSQL 15+) is ~4x faster than the default WAL_LOG for a small template when fsync is off.
    const version = await client.query<{ server_version_num: string }>('SHOW server_version_num');
    const strategy = Number(version.rows[0]?.server_version_num) >= 150000 ? ' STRATEGY FILE_COPY' : '';
    await client.query(`CREATE DATABASE ${quoteIdentifier(name)}${strategy}`);
  });
  return withDatabase(adminUrl, name);
}

/** Drops a database on the server of `adminUrl` (connections to it are terminated first). */
export async function dropPostgresDatabase(adminUrl: string, name: string): Promise<void> {
  await withAdmin(adminUrl, (client) => client.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(name)} WITH (FORCE)`));
}

/**
 * The directory holding `initdb`/`pg_ctl`/`postgres`: the newest
 * `/usr/lib/postgresql/<major>/bin` (Debian/Ubuntu), else `pg_config --bindir`,
 * else `initdb` on PATH.
 */
export function findPostgresBinDir(): string {
  const hasServer = (dir: string): boolean => isExecutable(join(dir, 'initdb')) && isExecutable(join(dir, 'pg_ctl'));
  const debianRoot = '/usr/lib/postgresql';
  const majors = existsSync(debianRoot) ? readdirSync(debianRoot).filter((name) => /^\d+(\.\d+)?$/.test(name)) : [];
  majors.sort((a, b) => Number(b) - Number(a));
  for (const major of majors) {
    const dir = join(debianRoot, major, 'bin');
    if (hasServer(dir)) return dir;
  }
  const pgConfig = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8' });
  const fromPgConfig = pgConfig.status === 0 ? pgConfig.stdout.trim() : '';
  if (fromPgConfig && hasServer(fromPgConfig)) return fromPgConfig;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && hasServer(dir)) return dir;
  }
  throw new Error(
    'PostgreSQL server binaries (initdb, pg_ctl) not found in /usr/lib/postgresql/*/bin, `pg_config --bindir` or PATH. ' +
      'Install PostgreSQL (Debian/Ubuntu: `apt-get install -y postgresql`; `.ci/run` does this).',
  );
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** A short directory (the socket lives in it, and socket paths are limited) that user `postgres` can reach. */
function makeRootDir(port: number, asRoot: boolean): string {
  const socketName = `/.s.PGSQL.${port}`;
  // As root the server runs as `postgres`, which may not be able to traverse $TMPDIR: use /tmp.
  const bases = asRoot ? ['/tmp'] : [tmpdir(), '/tmp'];
  for (const base of bases) {
    const candidate = join(base, 'hw-pg-XXXXXX') + socketName;
    if (Buffer.byteLength(candidate) <= MAX_SOCKET_PATH && existsSync(base)) return mkdtempSync(join(base, 'hw-pg-'));
  }
  throw new Error(`No temp directory short enough for a Unix socket path (tried ${bases.join(', ')})`);
}

function chownToPostgres(path: string): void {
  const ids = (flag: string): number => {
    const result = spawnSync('id', [flag, OS_USER], { encoding: 'utf8' });
    if (result.status !== 0) {
      throw new Error(`Running as root, PostgreSQL must run as user "${OS_USER}", which does not exist (id ${flag} ${OS_USER}: ${result.stderr.trim()})`);
    }
    return Number(result.stdout.trim());
  };
  chownSync(path, ids('-u'), ids('-g'));
}

function confValue(value: string | number | boolean): string {
  if (typeof value === 'boolean') return value ? 'on' : 'off';
  if (typeof value === 'number') return String(value);
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

function quoteIdentifier(name: string): string {
  if (!name || Buffer.byteLength(name) > 63) throw new Error(`Invalid database name ${JSON.stringify(name)}: 1 to 63 bytes`);
  return `"${name.replace(/"/g, '""')}"`;
}

async function withAdmin<T>(adminUrl: string, action: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl });
  // An error event on an idle client (e.g. the server is stopped) must not crash the process.
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await action(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** Runs a command; on failure throws with the command line, its output and the tail of `logFile`. */
function run([file, args]: [string, string[]], logFile?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { encoding: 'utf8', timeout: 120_000 }, (error, stdout, stderr) => {
      if (!error) return resolve();
      const commandLine = [file, ...args].map(shellQuote).join(' ');
      const output = `${stdout}${stderr}`.trim();
      let message = `PostgreSQL test server: command failed (${error.code ?? error.signal ?? error.message}): ${commandLine}`;
      if (output) message += `\n--- output ---\n${tail(output, 30)}`;
      if (logFile) {
        let log: string;
        try {
          log = readFileSync(logFile, 'utf8');
        } catch {
          log = '(no log file)';
        }
        message += `\n--- ${logFile} (tail) ---\n${tail(log.trim(), 30)}`;
      }
      reject(new Error(message));
    });
  });
}

function tail(text: string, lines: number): string {
  return text.split('\n').slice(-lines).join('\n');
}

/**
 * A detached `sh` that waits on a pipe from this process: when this process
 * dies in any way (SIGKILL included) the pipe closes and it stops the server
 * and removes its directory; `releaseWatchdog` tells it to just exit.
 */
function startWatchdog([file, args]: [string, string[]], root: string): ChildProcess | undefined {
  const script = 'read line; [ "$line" = done ] && exit 0; "$@" >/dev/null 2>&1; rm -rf "$HW_PG_ROOT"';
  try {
    const child = spawn('sh', ['-c', script, 'hw-pg-watchdog', file, ...args], {
      detached: true,
      stdio: ['pipe', 'ignore', 'ignore'],
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HW_PG_ROOT: root },
    });
    child.on('error', () => undefined);
    child.stdin?.on('error', () => undefined);
    child.unref();
    (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    return child;
  } catch {
    return undefined;
  }
}

function releaseWatchdog(child: ChildProcess | undefined): void {
  if (!child?.stdin || child.stdin.destroyed) return;
  child.stdin.end('done\n');
}

/** Environment variable with the admin URL of the run's shared server (set by the vitest global setup). */
export const TEST_POSTGRES_URL_ENV = 'HANDINGER_TEST_POSTGRES_URL';
/** The `provide`/`inject` key with the same URL. */
export const TEST_POSTGRES_PROVIDE_KEY = 'handingerTestPostgresUrl';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Admin URL of the PostgreSQL server shared by the whole `vitest run` (packages/testing/src/vitest-postgres-setup.ts). */
    handingerTestPostgresUrl: string;
  }
}

/**
 * The admin URL of the shared test server: `HANDINGER_TEST_POSTGRES_URL`, else
 * vitest's `inject('handingerTestPostgresUrl')`. Throws (never skips) when
 * neither is there.
 */
export async function testPostgresAdminUrl(): Promise<string> {
  const fromEnv = process.env[TEST_POSTGRES_URL_ENV];
  if (fromEnv) return fromEnv;
  let injected: string | undefined;
  try {
    const { inject } = await import('vitest');
    injected = inject(TEST_POSTGRES_PROVIDE_KEY);
  } catch {
    injected = undefined;
  }
  if (injected) return injected;
  throw new Error(
    `No PostgreSQL test server: ${TEST_POSTGRES_URL_ENV} is not set and nothing was provided as "${TEST_POSTGRES_PROVIDE_KEY}". ` +
      'Run the tests with the root vitest.config.ts (its globalSetup packages/testing/src/vitest-postgres-setup.ts starts one), ' +
      'or call startPostgres() yourself.',
  );
}

/** A fresh, empty database on the shared test server; `drop()` removes it (call it when done: each one takes disk space). */
export async function testPostgresDatabase(): Promise<{ name: string; url: string; drop(): Promise<void> }> {
  const adminUrl = await testPostgresAdminUrl();
  const name = uniqueDatabaseName();
  let url: string;
  try {
    url = await createPostgresDatabase(adminUrl, name);
  } catch (error) {
    throw new Error(`Could not create a database on the PostgreSQL test server ${adminUrl}: ${(error as Error).message}`, { cause: error });
  }
  return { name, url, drop: () => dropPostgresDatabase(adminUrl, name) };
}
