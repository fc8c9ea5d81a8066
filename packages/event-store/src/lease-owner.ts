import { randomUUID } from 'node:crypto';
import { readlinkSync } from 'node:fs';
import { hostname } from 'node:os';

/** The pid namespace of this process (Linux), so a pid is only judged on the machine and in the container it belongs to. */
function pidNamespace(): string {
  try {
    return readlinkSync('/proc/self/ns/pid');
  } catch {
    return '';
  }
}

const SEPARATOR = '|';

/**
 * A lease owner id for this process: host, pid namespace, pid and a random
 * part (two leases of one process are told apart). Carrying the pid lets
 * another process on the same machine see that the holder is gone instead
 * of waiting for its lease to lapse.
 */
export function processOwnerId(): string {
  return [hostname(), pidNamespace(), String(process.pid), randomUUID()].join(SEPARATOR);
}

/** The pid and host of an owner id from `processOwnerId`, for messages; `null` for other ids. */
export function describeOwner(owner: string): string | null {
  const [host, , pid] = owner.split(SEPARATOR);
  return pid === undefined ? null : `process ${pid} on ${host}`;
}

/**
 * Whether the process that holds a lease is known to be dead: it ran on
 * this machine, in this pid namespace, and its pid no longer exists. Any
 * doubt (another machine, another container, no namespace to compare, a
 * pid that exists) answers false, and the lease's expiry decides.
 */
export function isOwnerGone(owner: string): boolean {
  const [host, namespace, pidText] = owner.split(SEPARATOR);
  if (pidText === undefined || host !== hostname() || namespace === '' || namespace !== pidNamespace()) return false;
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
