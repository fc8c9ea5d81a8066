/**
 * A throwaway `redis-server` for the BullMQ peer: Debian's binary (apt
 * package `redis-server`; `.ci/run` installs it), started by the bench on a
 * temp directory and a free port bound to 127.0.0.1 only (or a Unix socket),
 * no config file, stopped by pid at the end. The Debian service is never
 * used.
 */
import { execFileSync } from 'node:child_process';
import { accessSync, closeSync, constants, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { delimiter, join } from 'node:path';
import { freePort, poll, spawnProcess, type ChildHandle } from '../proc.js';

/**
 * How much of what Redis acknowledged survives a crash:
 * - `off`: `--save '' --appendonly no`, memory only (a default dev setup; nothing survives a restart);
 * - `fsync`: `--appendonly yes --appendfsync always`, every acknowledged write is on disk
 *   (fsync batched per event-loop turn), the counterpart of PostgreSQL with `fsync`/`synchronous_commit` on.
 */
export type RedisPersistence = 'off' | 'fsync';

export const REDIS_PERSISTENCE_FLAGS: Record<RedisPersistence, string[]> = {
  off: ['--save', '', '--appendonly', 'no'],
  fsync: ['--save', '', '--appendonly', 'yes', '--appendfsync', 'always'],
};

/** Path of `redis-server` (PATH first, then /usr/bin and /usr/local/bin), or null. */
export function findRedisServer(): string | null {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), '/usr/bin', '/usr/local/bin'];
  for (const dir of dirs) {
    const candidate = join(dir, 'redis-server');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

/** Why the BullMQ peer cannot run here (reported as the scenario's "skipped: …"), or null. */
export function redisUnavailable(): string | null {
  return findRedisServer() === null ? 'redis-server is not installed (apt-get install redis-server; looked in PATH, /usr/bin, /usr/local/bin)' : null;
}

export interface RunningRedis {
  handle: ChildHandle;
  pid: number;
  /** ioredis/BullMQ connection options: `{ host, port }` or `{ path }`. */
  connection: { host: string; port: number } | { path: string };
  /** `redis-server --version` as it printed it, e.g. "Redis server v=7.0.15 …". */
  version: string;
  persistence: RedisPersistence;
  /** The command-line flags it was started with (for the report). */
  flags: string[];
  logFile: string;
  stop(): Promise<void>;
}

/**
 * Starts `redis-server` in `dir` (its working directory: AOF files land
 * there) and resolves once it answers PING. Throws `redisUnavailable()`'s
 * reason when it is not installed.
 */
export async function startRedis(options: { dir: string; persistence?: RedisPersistence; unixSocket?: boolean; startTimeoutMs?: number }): Promise<RunningRedis> {
  const binary = findRedisServer();
  if (!binary) throw new Error(redisUnavailable()!);
  const persistence = options.persistence ?? 'off';
  // sockaddr_un.sun_path holds 108 bytes (104 on macOS): a deep temp dir gets a short one of its own under /tmp.
  let socketDir: string | undefined;
  if (options.unixSocket && Buffer.byteLength(join(options.dir, 'redis.sock')) > 100) socketDir = mkdtempSync('/tmp/hw-redis-');
  const socketPath = options.unixSocket ? join(socketDir ?? options.dir, 'redis.sock') : undefined;
  const port = socketPath ? 0 : await freePort();
  const flags = [
    '--port', String(port),
    '--bind', '127.0.0.1',
    '--protected-mode', 'yes',
    ...(socketPath ? ['--unixsocket', socketPath, '--unixsocketperm', '700'] : []),
    '--dir', options.dir,
    '--daemonize', 'no',
    '--logfile', '',
    ...REDIS_PERSISTENCE_FLAGS[persistence],
  ];
  const logFile = join(options.dir, 'redis.log');
  const fd = openSync(logFile, 'a');
  let handle: ChildHandle;
  try {
    handle = spawnProcess({ command: binary, args: flags, stdout: fd, stderr: fd, cwd: options.dir });
  } finally {
    closeSync(fd);
  }
  let exited = false;
  void handle.exited.then(() => (exited = true));
  const connection = socketPath ? { path: socketPath } : { host: '127.0.0.1', port };
  try {
    await poll(
      async () => {
        if (exited) throw new Error(`redis-server exited at start: ${readLog(logFile)}`);
        return (await ping(connection)) ? true : undefined;
      },
      { timeoutMs: options.startTimeoutMs ?? 15_000, intervalMs: 20, what: `redis-server to answer PING (${readLog(logFile)})` },
    );
  } catch (error) {
    await handle.stop(2_000);
    if (socketDir) rmSync(socketDir, { recursive: true, force: true });
    throw error;
  }
  const version = redisVersion(binary);
  return {
    handle,
    pid: handle.pid,
    connection,
    version,
    persistence,
    flags,
    logFile,
    async stop() {
      // SIGTERM: redis-server shuts down (no RDB save with --save ''); SIGKILL after the grace period.
      await handle.stop(5_000);
      if (socketDir) rmSync(socketDir, { recursive: true, force: true });
    },
  };
}

/** `redis-server --version`, first line. */
export function redisVersion(binary = findRedisServer()): string {
  if (!binary) return 'not installed';
  try {
    return execFileSync(binary, ['--version'], { encoding: 'utf8', timeout: 5_000 }).trim().split('\n')[0] ?? '';
  } catch {
    return 'unknown';
  }
}

/** One RESP PING on a fresh connection: true on "+PONG". */
function ping(connection: { host: string; port: number } | { path: string }): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = 'path' in connection ? connect(connection.path) : connect(connection.port, connection.host);
    let reply = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('*1\r\n$4\r\nPING\r\n'));
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString('latin1');
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}

function readLog(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-10).join('\n');
  } catch {
    return '(no log)';
  }
}
