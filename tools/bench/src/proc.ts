import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { readStatusMb } from '@handinger-webhooks/testing';

/** Every child this bench started and has not reaped yet; killed (by pid, one by one) on exit. */
const live = new Set<ChildProcess>();

// Whatever ends this process (a throw, process.exit, a handled signal), its children end with it:
// the server is spawned without an IPC channel, so it would not notice on its own.
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** A message sent over a child's IPC channel: `{ type, ...payload }`. */
export type Message = { type: string; [key: string]: unknown };

export interface ChildHandle {
  child: ChildProcess;
  pid: number;
  /** Resolves with the first message (already received or later) of `type`; rejects on timeout or exit. */
  message(type: string, timeoutMs?: number): Promise<Message>;
  /** Sends `request` and resolves with the next reply of `replyType`. */
  ask(request: Message, replyType: string, timeoutMs?: number): Promise<Message>;
  /** Peak resident set (VmHWM) so far, in MB; NaN once the process is gone. */
  peakRssMb(): number;
  /** Resolves with the exit code or signal. */
  exited: Promise<number | string | null>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it exited. */
  stop(graceMs?: number): Promise<number | string | null>;
}

/**
 * Runs a child that reports its figures as one `result` message over IPC
 * (the bench's children/*.js), and stops it once it has: spawn, wait,
 * stop, whatever happens in between.
 */
export async function runForResult(options: Omit<Parameters<typeof spawnProcess>[0], 'ipc'>, timeoutMs: number): Promise<Message> {
  const child = spawnProcess({ ...options, ipc: true });
  try {
    return await child.message('result', timeoutMs);
  } finally {
    await child.stop();
  }
}

/** Path of a built module of this package, e.g. `childScript('receiver')` → dist/children/receiver.js. */
export const childScript = (name: string): string => fileURLToPath(new URL(`./children/${name}.js`, import.meta.url));

/**
 * Spawns a Node process (`process.execPath` on a built JS file, or any command
 * with `command`), with an IPC channel when `ipc` is set. The child is tracked
 * and stopped by `stopAllChildren`.
 */
export function spawnProcess(options: {
  args: string[];
  command?: string;
  execArgv?: string[];
  env?: Record<string, string | undefined>;
  ipc?: boolean;
  stdout?: 'ignore' | 'inherit' | 'pipe' | number;
  stderr?: 'ignore' | 'inherit' | 'pipe' | number;
  cwd?: string;
}): ChildHandle {
  const stdio: StdioOptions = ['ignore', options.stdout ?? 'ignore', options.stderr ?? 'pipe'];
  if (options.ipc) stdio.push('ipc');
  const command = options.command ?? process.execPath;
  const args = options.command ? options.args : [...(options.execArgv ?? []), ...options.args];
  const child = spawn(command, args, {
    stdio,
    env: { ...process.env, ...options.env },
    ...(options.cwd ? { cwd: options.cwd } : {}),
  });
  live.add(child);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-8_000);
  });
  const received: Message[] = [];
  const waiters: { type: string; resolve: (m: Message) => void }[] = [];
  child.on('message', (raw) => {
    const message = raw as Message;
    const index = waiters.findIndex((w) => w.type === message.type);
    if (index >= 0) waiters.splice(index, 1)[0]!.resolve(message);
    else received.push(message);
  });
  const exited = new Promise<number | string | null>((resolve) => {
    child.once('exit', (code, signal) => {
      live.delete(child);
      resolve(code ?? signal);
    });
    child.once('error', () => {
      live.delete(child);
      resolve('spawn-error');
    });
  });
  const describeExit = () => `${command} ${args.join(' ')} exited; stderr: ${stderr.trim().slice(-2_000)}`;

  const message = (type: string, timeoutMs = 120_000): Promise<Message> => {
    const index = received.findIndex((m) => m.type === type);
    if (index >= 0) return Promise.resolve(received.splice(index, 1)[0]!);
    return new Promise<Message>((resolve, reject) => {
      const waiter = {
        type,
        resolve: (m: Message) => {
          clearTimeout(timer);
          resolve(m);
        },
      };
      const timer = setTimeout(() => {
        waiters.splice(waiters.indexOf(waiter), 1);
        reject(new Error(`no "${type}" message within ${timeoutMs} ms from ${command} ${args.join(' ')}; stderr: ${stderr.trim().slice(-2_000)}`));
      }, timeoutMs);
      waiters.push(waiter);
      void exited.then(() => {
        if (!waiters.includes(waiter)) return;
        // Give a message sent just before exit a moment to arrive.
        setTimeout(() => {
          const i = waiters.indexOf(waiter);
          if (i < 0) return;
          waiters.splice(i, 1);
          clearTimeout(timer);
          reject(new Error(describeExit()));
        }, 50);
      });
    });
  };

  return {
    child,
    pid: child.pid ?? -1,
    message,
    ask(request, replyType, timeoutMs) {
      const reply = message(replyType, timeoutMs);
      child.send(request);
      return reply;
    },
    peakRssMb: () => (child.pid ? readStatusMb(child.pid, 'VmHWM') : Number.NaN),
    exited,
    async stop(graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode ?? child.signalCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
  };
}

/** Kills every child still running (each by its own handle), e.g. on Ctrl-C or after a failed scenario. */
export async function stopAllChildren(): Promise<void> {
  const children = [...live];
  for (const child of children) child.kill('SIGKILL');
  await Promise.all(
    children.map((child) => new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())))),
  );
}

/** CPU time (user + system) a process has used so far, in ms; NaN when unavailable. */
export function cpuTimeMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After "(comm) ": state is field 3, utime field 14, stime field 15 (1-based) → indexes 11 and 12 here.
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // USER_HZ is 100 on Linux
  } catch {
    return Number.NaN;
  }
}

/** Waits until `pid` has used less than `maxShare` of a core over `windowMs`, at most `timeoutMs`. Returns whether it settled. */
export async function waitForIdle(pid: number, options: { windowMs?: number; maxShare?: number; timeoutMs?: number } = {}): Promise<boolean> {
  const windowMs = options.windowMs ?? 500;
  const maxShare = options.maxShare ?? 0.05;
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  let before = cpuTimeMs(pid);
  while (Date.now() < deadline) {
    await sleep(windowMs);
    const after = cpuTimeMs(pid);
    if (!Number.isFinite(after)) return false;
    if (after - before <= windowMs * maxShare) return true;
    before = after;
  }
  return false;
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` every `intervalMs` until it returns a value other than undefined, or throws after `timeoutMs`. */
export async function poll<T>(check: () => T | undefined | Promise<T | undefined>, options: { timeoutMs: number; intervalMs?: number; what: string }): Promise<T> {
  const deadline = performance.now() + options.timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`timed out after ${options.timeoutMs} ms waiting for ${options.what}`);
    await sleep(options.intervalMs ?? 10);
  }
}

/** The receiver process of the delivery scenarios (children/receiver.ts), listening, with its URL; the caller stops it. */
export async function startReceiverProcess(): Promise<{ receiver: ChildHandle; receiverUrl: string }> {
  const receiver = spawnProcess({ args: [childScript('receiver')], ipc: true });
  try {
    return { receiver, receiverUrl: `http://127.0.0.1:${Number((await receiver.message('ready', 30_000)).port)}` };
  } catch (error) {
    await receiver.stop();
    throw error;
  }
}
