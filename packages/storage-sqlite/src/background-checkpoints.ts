import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { CheckpointThreadData } from './checkpoint-thread.js';
import type { SqliteConnection } from './open-file.js';

/** Where the checkpointer thread's code is: a module file, or (single executable) its bundled source and the extracted addon. */
export type CheckpointThreadEntry = { file: string } | { source: string; addonPath: string };

let entryOverride: CheckpointThreadEntry | undefined;

/** Lets the single executable hand over the bundled thread and the addon file it extracted (it has no module files on disk). */
export function setCheckpointThreadEntry(entry: CheckpointThreadEntry): void {
  entryOverride = entry;
}

/** Beside this module in `dist`; from the TypeScript sources (the tests), the built one (`npm test` builds first). */
function defaultEntry(): CheckpointThreadEntry | null {
  const here = fileURLToPath(import.meta.url);
  const file = fileURLToPath(new URL(here.endsWith('.ts') ? '../dist/checkpoint-thread.js' : './checkpoint-thread.js', import.meta.url));
  return existsSync(file) ? { file } : null;
}

/** SQLite's default: the writer checkpoints after the commit that takes the WAL past this many pages. */
export const INLINE_CHECKPOINT_PAGES = 1_000;
/**
 * With the thread: the writer still checkpoints past this many pages. The
 * thread has copied nearly all of them by then, so it is cheap, and it is
 * what lets the WAL start over: SQLite rewinds the WAL only when a write
 * begins with every frame copied, which a checkpointer running beside a
 * steady writer never sees.
 */
export const BACKSTOP_CHECKPOINT_PAGES = 4_000;
const INTERVAL_MS = 10;

/**
 * WAL checkpoints on a thread of their own. Without it the writer
 * checkpoints inside the COMMIT that crosses 1,000 pages: copying pages and
 * two fsyncs, milliseconds on the event loop that runs the API and the
 * delivery pipeline. The thread does that work beside it with its own
 * connection (PASSIVE: it never takes the write lock), the writer keeps a
 * backstop at 4,000 pages, and if the thread ends the writer checkpoints
 * in line again as before.
 */
export class BackgroundCheckpoints {
  private stopped = false;
  private readonly exited: Promise<void>;

  private constructor(
    private readonly worker: Worker,
    writer: SqliteConnection,
  ) {
    writer.pragma(`wal_autocheckpoint = ${BACKSTOP_CHECKPOINT_PAGES}`);
    // An error ends the thread too; 'exit' follows it.
    worker.on('error', () => {});
    this.exited = new Promise((resolve) => {
      worker.once('exit', () => {
        if (!this.stopped && writer.open) writer.pragma(`wal_autocheckpoint = ${INLINE_CHECKPOINT_PAGES}`);
        resolve();
      });
    });
    worker.unref();
  }

  /** Starts the thread for the database file the writer has open; `null` where no thread can run (it is not built). */
  static start(path: string, writer: SqliteConnection): BackgroundCheckpoints | null {
    const entry = entryOverride ?? defaultEntry();
    if (entry === null) return null;
    const workerData: CheckpointThreadData = { role: 'handinger-checkpointer', path, intervalMs: INTERVAL_MS, ...('addonPath' in entry ? { addonPath: entry.addonPath } : {}) };
    // Its own flags, not the parent's: a parent run with a source-mode resolution condition (the tests) must not pass it on.
    const init = { workerData, execArgv: [] };
    const worker = 'file' in entry ? new Worker(entry.file, init) : new Worker(entry.source, { ...init, eval: true });
    return new BackgroundCheckpoints(worker, writer);
  }

  /** Ends the thread (its connection closed) and waits for it. */
  async stop(): Promise<void> {
    this.stopped = true;
    // Held while it ends: an unref'd thread would let the process exit before the close finishes.
    this.worker.ref();
    this.worker.postMessage('stop');
    await this.exited;
  }

  /** Test seam: ends the thread as a crash would. */
  async crashForTest(): Promise<void> {
    await this.worker.terminate();
    await this.exited;
  }
}
