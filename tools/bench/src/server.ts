import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SERVER_CLI, SERVER_DIST, profileArgs, type BenchContext } from './context.js';
import { poll, spawnProcess, type ChildHandle } from './proc.js';

export interface RunningServer {
  handle: ChildHandle;
  pid: number;
  url: string;
  port: number;
  logFile: string;
  /** Peak RSS of the server process so far (VmHWM), MB. */
  peakRssMb(): number;
  stop(): Promise<number | string | null>;
}

/** Why the real server cannot be run, or null when it can. */
export function serverUnavailable(): string | null {
  if (!existsSync(SERVER_DIST)) return `the server is not built (${SERVER_DIST} is missing: run npm run build)`;
  return null;
}

/**
 * Starts `handinger-webhooks serve` (or `deliver`) as users run it (node on
 * the bin script), on a free port, stdout (its JSON logs, one line per
 * request at the default level) going to a file as under a process manager,
 * so the bench neither parses nor competes for them. Resolves once it logged
 * "listening" (`deliver`: "delivering"; it has no URL).
 */
export async function startServer(
  ctx: BenchContext,
  options: { dbPath: string; env?: Record<string, string | undefined>; name: string; args?: string[]; command?: 'serve' | 'deliver' },
): Promise<RunningServer> {
  const command = options.command ?? 'serve';
  const ready = command === 'serve' ? 'listening' : 'delivering';
  const unavailable = serverUnavailable();
  if (unavailable) throw new Error(unavailable);
  const logFile = join(ctx.tempDir(`${options.name}-logs`), 'server.log');
  const fd = openSync(logFile, 'a');
  let handle: ChildHandle;
  try {
    handle = spawnProcess({
      args: [SERVER_CLI, command, ...(command === 'serve' ? ['--port', '0'] : []), '--db', options.dbPath, '--allow-private-network', ...(options.args ?? [])],
      execArgv: profileArgs(ctx, options.name),
      env: { HANDINGER_LOG_LEVEL: 'info', ...options.env },
      stdout: fd,
    });
  } finally {
    closeSync(fd);
  }
  let exited = false;
  void handle.exited.then(() => (exited = true));
  const listening = await poll(
    () => {
      if (exited) throw new Error(`${command} exited before it was ready: ${readFileSync(logFile, 'utf8').slice(-2_000)}`);
      const text = readFileSync(logFile, 'utf8');
      for (const line of text.split('\n')) {
        if (!line.includes(`"${ready}"`)) continue;
        try {
          const parsed = JSON.parse(line) as { msg?: string; port?: number; url?: string };
          if (parsed.msg === ready && (command === 'deliver' || typeof parsed.port === 'number')) return parsed;
        } catch {
          // a partial line: look again
        }
      }
      return undefined;
    },
    { timeoutMs: 120_000, intervalMs: 10, what: `${command} to log "${ready}"` },
  );
  return {
    handle,
    pid: handle.pid,
    url: listening.url ?? (listening.port === undefined ? '' : `http://127.0.0.1:${listening.port}`),
    port: listening.port ?? 0,
    logFile,
    peakRssMb: handle.peakRssMb,
    stop: () => handle.stop(20_000),
  };
}
