/** Helpers for the bench's child processes (receiver, load generator, rebuild sides, raw server). */
import { readFileSync } from 'node:fs';

export type Message = { type: string; [key: string]: unknown };

/** Sends a message to the parent; resolves once it is handed to the IPC channel. */
export function send(message: Message): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) return resolve();
    process.send(message, undefined, {}, () => resolve());
  });
}

/**
 * Ties the child's life to the bench: it exits when the parent goes away (IPC
 * disconnect) and in any case after `maxLifetimeMs`, so nothing outlives a run.
 */
export function exitWithParent(maxLifetimeMs = Number(process.env.BENCH_CHILD_MAX_MS ?? 30 * 60_000)): void {
  process.on('disconnect', () => process.exit(0));
  process.on('SIGTERM', () => process.exit(0));
  setTimeout(() => {
    process.stderr.write(`bench child ${process.argv[1]} reached its ${maxLifetimeMs} ms lifetime, exiting\n`);
    process.exit(3);
  }, maxLifetimeMs).unref();
}

/** Runs `handler` for each message from the parent. */
export function onMessage(handler: (message: Message) => void | Promise<void>): void {
  process.on('message', (raw) => {
    Promise.resolve(handler(raw as Message)).catch((error: unknown) => {
      void send({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    });
  });
}

/** Peak RSS of this process in MB: the larger of the kernel's VmHWM and libuv's maxRSS. */
export function ownPeakRssMb(): number {
  const fromResourceUsage = process.resourceUsage().maxRSS / 1024;
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    const match = /^VmHWM:\s+(\d+) kB/m.exec(status);
    if (match) return Math.max(fromResourceUsage, Number(match[1]) / 1024);
  } catch {
    // not Linux: maxRSS alone
  }
  return fromResourceUsage;
}
