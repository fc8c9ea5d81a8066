#!/usr/bin/env node
/**
 * Summarizes a V8 `.cpuprofile` (from `node --cpu-prof`, or `npm run bench --
 * --cpu-prof-dir DIR` for the product-side child processes): self and total
 * time per function and per package, so a missed target can be explained by
 * where the time goes.
 *
 *   node tools/bench/dist/profile-summary.js FILE.cpuprofile [--top 25] [--focus substring] [--from S] [--to S]
 *   node tools/bench/dist/profile-summary.js FILE.cpuprofile --timeline
 *   node tools/bench/dist/profile-summary.js FILE.cpuprofile --stages [--from S] [--to S] [--per N]
 *
 * `--timeline` prints each second's busy share (to find the measured phase);
 * `--from`/`--to` (seconds since the profile's start) keep only that window;
 * `--stages` splits the time by the delivery pipeline's stages (`STAGES`),
 * and `--per N` divides it by the N deliveries made in the window.
 * `--focus` restricts the totals to samples whose stack contains a frame
 * matching the substring (e.g. `executionsPage`), and shows the split below it.
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
  hitCount?: number;
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface FunctionCost {
  name: string;
  where: string;
  group: string;
  selfMs: number;
  totalMs: number;
}

/** Where a frame lives: a workspace package, an npm package, node internals, or V8's pseudo frames. */
export function groupOf(frame: CallFrame): string {
  const url = frame.url;
  if (!url) {
    if (['(garbage collector)', '(program)', '(idle)', '(root)'].includes(frame.functionName)) return frame.functionName;
    return '(native)';
  }
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + '/node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  const ws = /\/(packages|apps|tools)\/([^/]+)\//.exec(url);
  if (ws) return `${ws[1]}/${ws[2]}`;
  return url.replace(/^file:\/\//, '');
}

const shortUrl = (url: string): string => {
  const ws = /\/((?:packages|apps|tools)\/.*)$/.exec(url);
  if (ws) return ws[1]!;
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) return url.slice(nm + 14);
  return url.replace(/^file:\/\//, '');
};

const keyOf = (f: CallFrame) => `${f.functionName || '(anonymous)'} ${shortUrl(f.url)}:${f.lineNumber + 1}`;

/** A sampled node's stack, leaf first. */
function stacks(profile: CpuProfile): (id: number) => ProfileNode[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  return (id) => {
    const stack: ProfileNode[] = [];
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) stack.push(byId.get(cur)!);
    return stack;
  };
}

/** The time (µs) each node was sampled at the top of the stack, within `[fromS, toS]` seconds of the profile's start. */
function selfTimes(profile: CpuProfile, window: { fromS?: number; toS?: number }): Map<number, number> {
  const fromUs = (window.fromS ?? 0) * 1e6;
  const toUs = (window.toS ?? Number.POSITIVE_INFINITY) * 1e6;
  const selfUs = new Map<number, number>();
  let t = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i] ?? 0;
    if (t < fromUs || t > toUs) continue;
    const id = profile.samples[i]!;
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  return selfUs;
}

/**
 * The pipeline's stages, as frames that mark them (`name file:line` keys,
 * matched as substrings). A sample counts for the first stage of this list
 * that has a frame on its stack, so a statement run by the claim is the
 * claim's, and the commit's own statements (BEGIN, COMMIT, savepoints) are
 * the commit's. An async function's continuation has that function on its
 * stack (not its caller's callers): the markers are the async functions.
 */
export const STAGES: readonly { stage: string; frames: readonly string[] }[] = [
  { stage: 'commit (BEGIN/COMMIT/savepoints: the WAL writes)', frames: ['exec packages/storage-sqlite/dist/group-commit.js'] },
  { stage: 'claim (due rows, caps, marks)', frames: ['packages/projections/dist/delivery-claims.js'] },
  { stage: 'read the notifications from the log', frames: ['apps/delivery/dist/notifications.js'] },
  { stage: 'prepare (body, headers, HMAC)', frames: ['apps/delivery/dist/prepare.js', 'apps/delivery/dist/signature.js'] },
  { stage: 'hand to / from the sender thread', frames: ['postMessage ', 'apps/delivery/dist/thread-transport.js'] },
  { stage: 'API: authenticate the key', frames: ['authenticate packages/api/', 'resolveCaller packages/api/'] },
  // On PostgreSQL: the driver, its protocol parsing and the socket round trips of every statement.
  { stage: 'PostgreSQL client (pg: statements sent, results parsed)', frames: ['/pg/lib/', 'pg-protocol/', 'pg-pool/', 'packages/storage-postgres/'] },
  // Async continuations carry only their own function's frame, so the attempt's record and (through the API) the completion share one stage.
  { stage: 'write: decide, append, project (the attempt; through the API also the completion)', frames: ['packages/commands/', 'packages/event-store/', 'packages/projections/', 'packages/domain/', 'runBatch packages/storage-sqlite/'] },
  { stage: 'API: tRPC, validation, routing', frames: ['@trpc/server', 'packages/api/', 'zod/'] },
  { stage: 'API: HTTP parsing and writing', frames: ['node:_http', 'node:net', 'writev ', 'apps/server/dist/http-server'] },
  { stage: 'delivery loop bookkeeping', frames: ['apps/delivery/'] },
  { stage: 'garbage collection', frames: ['(garbage collector)'] },
  { stage: 'idle', frames: ['(idle)'] },
];

const OTHER = 'other (promise machinery, timers, metrics, logging)';

/** Time per stage (the first stage of `STAGES` with a frame on the stack wins; unmarked samples are "other"). */
export function stageTimes(profile: CpuProfile, window: { fromS?: number; toS?: number } = {}) {
  const stackOf = stacks(profile);
  const totals = new Map<string, number>();
  const otherLeaves = new Map<string, number>();
  for (const [id, us] of selfTimes(profile, window)) {
    const keys = stackOf(id).map((node) => keyOf(node.callFrame));
    const first = Math.min(...keys.map((key) => STAGES.findIndex((s) => s.frames.some((f) => key.includes(f)))).filter((hit) => hit >= 0));
    const stage = Number.isFinite(first) ? STAGES[first]!.stage : OTHER;
    totals.set(stage, (totals.get(stage) ?? 0) + us / 1000);
    if (stage === OTHER) otherLeaves.set(keys[0]!, (otherLeaves.get(keys[0]!) ?? 0) + us / 1000);
  }
  return {
    stages: [...totals].map(([stage, ms]) => ({ stage, ms })).sort((a, b) => b.ms - a.ms),
    /** What "other" is made of, by leaf frame. */
    other: [...otherLeaves].map(([frame, ms]) => ({ frame, ms })).sort((a, b) => b.ms - a.ms),
  };
}

/** Per second of the profile, the share of samples that were not idle: where the measured phase is (to pass to `--from`/`--to`). */
export function busyTimeline(profile: CpuProfile): number[] {
  const idle = new Set(profile.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id));
  const busy: number[] = [];
  const all: number[] = [];
  let t = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i] ?? 0;
    const second = Math.floor(t / 1e6);
    all[second] = (all[second] ?? 0) + (profile.timeDeltas[i] ?? 0);
    if (!idle.has(profile.samples[i]!)) busy[second] = (busy[second] ?? 0) + (profile.timeDeltas[i] ?? 0);
  }
  return Array.from(all, (us, k) => (us ? (busy[k] ?? 0) / us : 0));
}

export function summarizeProfile(profile: CpuProfile, options: { focus?: string; fromS?: number; toS?: number } = {}) {
  const selfUs = selfTimes(profile, options);
  const stackOf = stacks(profile);
  const functions = new Map<string, FunctionCost>();
  const groupsSelf = new Map<string, number>();
  const groupsTotal = new Map<string, number>();
  let totalUs = 0;
  for (const [id, us] of selfUs) {
    const stack = stackOf(id);
    if (options.focus && !stack.some((n) => keyOf(n.callFrame).includes(options.focus!))) continue;
    totalUs += us;
    const leaf = stack[0]!;
    const leafKey = keyOf(leaf.callFrame);
    const entry = (key: string, frame: CallFrame): FunctionCost => {
      let cost = functions.get(key);
      if (!cost) {
        cost = { name: frame.functionName || '(anonymous)', where: `${shortUrl(frame.url)}:${frame.lineNumber + 1}`, group: groupOf(frame), selfMs: 0, totalMs: 0 };
        functions.set(key, cost);
      }
      return cost;
    };
    entry(leafKey, leaf.callFrame).selfMs += us / 1000;
    groupsSelf.set(groupOf(leaf.callFrame), (groupsSelf.get(groupOf(leaf.callFrame)) ?? 0) + us / 1000);
    const seen = new Set<string>();
    const seenGroups = new Set<string>();
    for (const node of stack) {
      const key = keyOf(node.callFrame);
      if (!seen.has(key)) {
        seen.add(key);
        entry(key, node.callFrame).totalMs += us / 1000;
      }
      const group = groupOf(node.callFrame);
      if (!seenGroups.has(group)) {
        seenGroups.add(group);
        groupsTotal.set(group, (groupsTotal.get(group) ?? 0) + us / 1000);
      }
    }
  }
  return {
    totalMs: totalUs / 1000,
    functions: [...functions.values()],
    groups: [...groupsSelf.entries()].map(([group, selfMs]) => ({ group, selfMs, totalMs: groupsTotal.get(group) ?? selfMs })),
  };
}

function main(argv: string[]): void {
  const file = argv.find((a) => !a.startsWith('--') && !/^[\d.]+$/.test(a));
  if (!file) {
    process.stderr.write('usage: profile-summary FILE.cpuprofile [--top N] [--focus substring] [--from S] [--to S] | --timeline\n');
    process.exit(2);
  }
  const topIndex = argv.indexOf('--top');
  const top = topIndex >= 0 ? Number(argv[topIndex + 1]) : 25;
  const focusIndex = argv.indexOf('--focus');
  const focus = focusIndex >= 0 ? argv[focusIndex + 1] : undefined;
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  if (argv.includes('--timeline')) {
    process.stdout.write(`${busyTimeline(profile).map((share, second) => `${String(second).padStart(4)} s  ${(share * 100).toFixed(0).padStart(3)}% busy`).join('\n')}\n`);
    return;
  }
  const number = (flag: string) => (argv.includes(flag) ? Number(argv[argv.indexOf(flag) + 1]) : undefined);
  const fromS = number('--from');
  const toS = number('--to');
  const window = { ...(fromS !== undefined ? { fromS } : {}), ...(toS !== undefined ? { toS } : {}) };
  const perIndex = argv.indexOf('--per');
  if (argv.includes('--stages')) {
    // --per N: also µs per unit of work (e.g. the deliveries made in the window).
    const per = perIndex >= 0 ? Number(argv[perIndex + 1]) : 0;
    const { stages, other } = stageTimes(profile, window);
    const sum = stages.reduce((a, s) => a + s.ms, 0);
    const line = (ms: number, what: string) => `  ${ms.toFixed(0).padStart(7)} ms ${((ms / sum) * 100).toFixed(1).padStart(5)}%${per > 0 ? `  ${((ms * 1000) / per).toFixed(1).padStart(7)} µs each` : ''}  ${what}`;
    const lines = stages.map((s) => line(s.ms, s.stage));
    lines.push('', '"other", by leaf frame:', ...other.slice(0, 12).map((o) => line(o.ms, o.frame)));
    process.stdout.write(`${file}: ${sum.toFixed(0)} ms sampled${per > 0 ? `, ${per} units` : ''}\n${lines.join('\n')}\n`);
    return;
  }
  const summary = summarizeProfile(profile, { ...(focus ? { focus } : {}), ...window });
  const pct = (ms: number) => `${((ms / summary.totalMs) * 100).toFixed(1).padStart(5)}%`;
  const ms = (v: number) => v.toFixed(0).padStart(7);
  const out: string[] = [];
  out.push(`${file}: ${summary.totalMs.toFixed(0)} ms sampled${fromS !== undefined || toS !== undefined ? ` from ${fromS ?? 0} s to ${toS ?? 'the end'}` : ''}${focus ? ` under frames matching "${focus}"` : ''}`);
  out.push('', 'by package (self = time in its own frames, total = time with it on the stack):');
  for (const g of summary.groups.sort((a, b) => b.selfMs - a.selfMs).slice(0, top)) {
    out.push(`  ${ms(g.selfMs)} ms ${pct(g.selfMs)} self  ${ms(g.totalMs)} ms ${pct(g.totalMs)} total  ${g.group}`);
  }
  out.push('', `top ${top} functions by self time:`);
  for (const f of summary.functions.sort((a, b) => b.selfMs - a.selfMs).slice(0, top)) {
    out.push(`  ${ms(f.selfMs)} ms ${pct(f.selfMs)}  ${f.name}  (${f.where})`);
  }
  out.push('', `top ${top} functions by total time:`);
  for (const f of summary.functions.sort((a, b) => b.totalMs - a.totalMs).slice(0, top)) {
    out.push(`  ${ms(f.totalMs)} ms ${pct(f.totalMs)}  ${f.name}  (${f.where})`);
  }
  process.stdout.write(`${out.join('\n')}\n`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) main(process.argv.slice(2));
