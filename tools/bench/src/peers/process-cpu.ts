/**
 * CPU time of a whole process tree, for the peers' backing stores: a
 * PostgreSQL cluster is a postmaster and its children (a backend per
 * connection, checkpointer, WAL writer, autovacuum…), some of which come and
 * go during a measurement.
 *
 * For every live process of the tree: its own user + system time
 * (`cpuTimeMs` of proc.ts, /proc/<pid>/stat fields 14–15) plus the time of
 * its children that already exited and were reaped (cutime + cstime, fields
 * 16–17). A process that exits during the measurement moves from the first
 * term of the sum to its parent's second term, so the difference of two
 * readings counts it once, whenever it was born or died.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { cpuTimeMs } from '../proc.js';

const USER_HZ = 100;

interface Stat {
  ppid: number;
  reapedChildrenMs: number;
}

function readStat(pid: number): Stat | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After "(comm) ": state is field 3, ppid field 4, cutime 16, cstime 17 (1-based) → indexes 1, 13, 14 here.
    return { ppid: Number(fields[1]), reapedChildrenMs: ((Number(fields[13]) + Number(fields[14])) * 1000) / USER_HZ };
  } catch {
    return null;
  }
}

/** pid → parent pid of every process visible in /proc. */
function parentMap(): Map<number, number> {
  const parents = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readStat(Number(name));
    if (stat) parents.set(Number(name), stat.ppid);
  }
  return parents;
}

/** `root` and all its live descendants. */
export function processTree(root: number): number[] {
  const parents = parentMap();
  const children = new Map<number, number[]>();
  for (const [pid, ppid] of parents) {
    const list = children.get(ppid);
    if (list) list.push(pid);
    else children.set(ppid, [pid]);
  }
  const tree: number[] = [];
  const stack = [root];
  while (stack.length) {
    const pid = stack.pop()!;
    if (!parents.has(pid) && pid !== root) continue;
    tree.push(pid);
    stack.push(...(children.get(pid) ?? []));
  }
  return tree;
}

/** CPU ms used so far by the process tree under each root (see the file comment); NaN when a root is gone. */
export function treeCpuMs(...roots: number[]): number {
  let total = 0;
  for (const root of roots) {
    if (!Number.isFinite(cpuTimeMs(root))) return Number.NaN;
    for (const pid of processTree(root)) {
      const own = cpuTimeMs(pid);
      const stat = readStat(pid);
      if (!Number.isFinite(own) || !stat) continue; // exited between the listing and the read: its parent's cutime has it next time
      total += own + stat.reapedChildrenMs;
    }
  }
  return total;
}
