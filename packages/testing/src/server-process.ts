import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The CLI as users run it (needs `npm run build`; `npm test` builds first). */
export const CLI_PATH = fileURLToPath(new URL('../../../apps/server/bin/handinger-webhooks.js', import.meta.url));

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
  /** With `measurePeakRss`: the highest resident set (VmHWM) the process had been seen to reach, in MB, sampled every 10 ms. */
  peakRssMb?: number;
}

/** Runs one CLI command to completion, e.g. `runCli(['keys', 'list', '--db', path])`; `stdin` is piped in, if given. */
export async function runCli(
  args: string[],
  options: { env?: Record<string, string>; command?: string[]; stdin?: string; measurePeakRss?: boolean } = {},
): Promise<CliResult> {
  const [file, ...prefix] = options.command ?? [process.execPath, CLI_PATH];
  const child = spawn(file!, [...prefix, ...args], { env: { ...process.env, ...options.env }, stdio: [options.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
  if (options.stdin !== undefined) child.stdin!.end(options.stdin);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk) => (stdout += chunk));
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  let peakRssMb = 0;
  // VmHWM only grows: the last sample before the process ends is the peak, short of its last 10 ms.
  const sample = () => {
    const mb = readStatusMb(child.pid!, 'VmHWM');
    if (mb > peakRssMb) peakRssMb = mb; // NaN once it has ended
  };
  const sampler = options.measurePeakRss ? setInterval(sample, 10) : undefined;
  const [status] = (await once(child, 'close')) as [number | null];
  clearInterval(sampler);
  return { status, stdout, stderr, ...(options.measurePeakRss ? { peakRssMb } : {}) };
}

/** A field of /proc/<pid>/status in MB (e.g. VmHWM = peak RSS, VmRSS = current RSS); NaN when unavailable (the process has ended). */
export function readStatusMb(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    return match ? Number(match[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

export interface ServerProcess {
  child: ChildProcess;
  baseUrl: string;
  port: number;
  /** Every JSON log line printed so far. */
  logs: Record<string, unknown>[];
  stderr(): string;
  /** Resolves when a log line matching `predicate` has been printed (already or later). */
  waitForLog(predicate: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Sends a signal and resolves with the exit code (or the signal's name). */
  stop(signal?: NodeJS.Signals): Promise<number | string | null>;
}

/**
 * Starts `handinger-webhooks serve` (or another long-running command) as a
 * real child process on a free port and resolves once it logs "listening"
 * (or "delivering" for `deliver`).
 */
export async function startServerProcess(options: {
  args?: string[];
  env?: Record<string, string>;
  readyMessage?: string;
  command?: string[];
  timeoutMs?: number;
}): Promise<ServerProcess> {
  const [file, ...prefix] = options.command ?? [process.execPath, CLI_PATH];
  const args = options.args ?? ['serve', '--port', '0'];
  const child = spawn(file!, [...prefix, ...args], {
    env: { ...process.env, HANDINGER_LOG_LEVEL: 'info', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  const waiters: { predicate: (line: Record<string, unknown>) => boolean; resolve: (line: Record<string, unknown>) => void }[] = [];
  let stderr = '';
  let buffered = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  child.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    let newline: number;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const text = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      let line: Record<string, unknown>;
      try {
        line = JSON.parse(text);
      } catch {
        line = { unparsed: text };
      }
      logs.push(line);
      for (const waiter of [...waiters]) {
        if (waiter.predicate(line)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(line);
        }
      }
    }
  });
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;

  const waitForLog = (predicate: (line: Record<string, unknown>) => boolean, timeoutMs = 30_000) => {
    const seen = logs.find(predicate);
    if (seen) return Promise.resolve(seen);
    return new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching log line within ${timeoutMs} ms; stderr: ${stderr}`)), timeoutMs);
      waiters.push({ predicate, resolve: (line) => (clearTimeout(timer), resolve(line)) });
      exited.then(([code, signal]) => {
        clearTimeout(timer);
        reject(new Error(`process exited (${code ?? signal}) before the expected log line; stderr: ${stderr}`));
      });
    });
  };

  const ready = await waitForLog((line) => line.msg === (options.readyMessage ?? 'listening'), options.timeoutMs ?? 60_000);
  const port = typeof ready.port === 'number' ? ready.port : 0;
  return {
    child,
    baseUrl: typeof ready.url === 'string' ? ready.url : '',
    port,
    logs,
    stderr: () => stderr,
    waitForLog,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode ?? child.signalCode;
      child.kill(signal);
      const [code, exitSignal] = await exited;
      return code ?? exitSignal;
    },
  };
}
