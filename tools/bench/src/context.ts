import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** How much work each scenario does. `--quick` is sized for CI (the whole run well under a minute). */
export interface Sizes {
  /** Repetitions of each side (interleaved ceiling/product). */
  reps: number;
  /** Commands per repetition, sequential callers. */
  sequentialCommands: number;
  /** Commands per repetition with concurrent callers. */
  concurrentCommands: number;
  concurrentCallers: number;
  /** The shared data set: executions in all, and how many of them belong to the paged worker. */
  executions: number;
  targetExecutions: number;
  otherWorkers: number;
  /** Timed calls per page in the in-process page scenario. */
  pageCalls: number;
  rebuildReps: number;
  /** HTTP load: fixed connections, fixed duration per repetition. */
  httpConnections: number;
  httpDurationMs: number;
  httpWarmupMs: number;
  /** Deliveries per repetition and the per-origin concurrency (the product's default cap). */
  deliveries: number;
  deliveryConcurrency: number;
  startupReps: number;
  /** Due notifications in the backlog scenario. */
  backlog: number;
}

/** The sizes the issue's targets are defined on. */
export const FULL: Sizes = {
  reps: 5,
  sequentialCommands: 5_000,
  concurrentCommands: 10_000,
  concurrentCallers: 64,
  executions: 1_000_000,
  targetExecutions: 200_000,
  otherWorkers: 99,
  pageCalls: 5_000,
  rebuildReps: 3,
  httpConnections: 16,
  httpDurationMs: 5_000,
  httpWarmupMs: 1_000,
  deliveries: 5_000,
  deliveryConcurrency: 16,
  startupReps: 5,
  backlog: 1_000_000,
};

/** Proves every scenario still runs; ratios are indicative, absolute targets tied to the full data set are not judged. */
export const QUICK: Sizes = {
  reps: 2,
  sequentialCommands: 1_000,
  concurrentCommands: 2_000,
  concurrentCallers: 64,
  executions: 50_000,
  targetExecutions: 10_000,
  otherWorkers: 9,
  pageCalls: 1_000,
  rebuildReps: 2,
  httpConnections: 16,
  httpDurationMs: 800,
  httpWarmupMs: 200,
  deliveries: 500,
  deliveryConcurrency: 16,
  startupReps: 2,
  backlog: 20_000,
};

/** Repository paths the scenarios need. */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const SERVER_CLI = join(REPO_ROOT, 'apps/server/bin/handinger-webhooks.js');
export const SERVER_DIST = join(REPO_ROOT, 'apps/server/dist/cli.js');

export interface BenchContext {
  quick: boolean;
  sizes: Sizes;
  /** When set, product-side child processes run with `--cpu-prof` into this directory. */
  profileDir: string | undefined;
  /** Extra startup commands (e.g. a single executable), added to the startup scenario. */
  startupBins: string[];
  /** A fresh directory under this run's temp root (removed at the end of the run). */
  tempDir(name: string): string;
  log(message: string): void;
  /** Per-run cache shared by scenarios (e.g. the seeded 1M-execution database). */
  shared: Map<string, unknown>;
  /** Runs `fn` when the run ends (servers started for several scenarios). */
  onCleanup(fn: () => Promise<void> | void): void;
  cleanup(): Promise<void>;
}

export function createContext(options: { quick: boolean; sizes: Sizes; profileDir?: string; startupBins?: string[]; verbose?: boolean }): BenchContext {
  const root = mkdtempSync(join(tmpdir(), 'handinger-bench-'));
  const started = performance.now();
  let counter = 0;
  const cleanups: (() => Promise<void> | void)[] = [];
  if (options.profileDir) mkdirSync(options.profileDir, { recursive: true });
  return {
    quick: options.quick,
    sizes: options.sizes,
    profileDir: options.profileDir,
    startupBins: options.startupBins ?? [],
    tempDir(name) {
      const dir = join(root, `${String(++counter).padStart(3, '0')}-${name}`);
      mkdirSync(dir, { recursive: true });
      return dir;
    },
    log(message) {
      const seconds = ((performance.now() - started) / 1000).toFixed(1).padStart(6);
      process.stderr.write(`[bench ${seconds}s] ${message}\n`);
    },
    shared: new Map(),
    onCleanup(fn) {
      cleanups.push(fn);
    },
    async cleanup() {
      for (const fn of cleanups.splice(0).reverse()) await Promise.resolve(fn()).catch(() => undefined);
      if (existsSync(root)) rmSync(root, { recursive: true, force: true });
    },
  };
}

/** `--cpu-prof` flags for a product-side child when profiling was asked for. */
export function profileArgs(ctx: BenchContext, name: string): string[] {
  if (!ctx.profileDir) return [];
  // A directory per process: node names each thread's profile itself (pid and thread id), so the sender thread's is kept beside the main one's.
  return ['--cpu-prof', `--cpu-prof-dir=${join(ctx.profileDir, `${name}-${Date.now()}`)}`];
}
