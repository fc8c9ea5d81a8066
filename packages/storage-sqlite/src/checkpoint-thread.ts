/**
 * The WAL checkpointer's thread (see `background-checkpoints.ts`): its own
 * connection to the file, a PASSIVE checkpoint every `intervalMs` (it copies
 * committed pages into the database file and fsyncs it without taking the
 * write lock), and a report of each one to the parent.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

export interface CheckpointThreadData {
  role: 'handinger-checkpointer';
  path: string;
  intervalMs: number;
  /** A better-sqlite3 addon file to load (the single executable's extracted one); else the package's own. */
  addonPath?: string;
}

/** What the thread tells its parent after each checkpoint that copied frames. */
export interface CheckpointReport {
  type: 'checkpoint';
  /** Frames in the WAL, and how many of them are in the database file now. */
  log: number;
  checkpointed: number;
}

function loadAddon(path: string): object {
  const module = { exports: {} as object };
  process.dlopen(module, path);
  return module.exports;
}

const data = workerData as CheckpointThreadData;
if (parentPort && data?.role === 'handinger-checkpointer') {
  const port = parentPort;
  const db = new Database(data.path, { fileMustExist: true, ...(data.addonPath ? { nativeBinding: loadAddon(data.addonPath) as unknown as string } : {}) });
  // Never wait for a lock: a checkpoint that finds another one running tries again at the next tick.
  db.pragma('busy_timeout = 0');
  let reported = { log: 0, checkpointed: 0 };
  const timer = setInterval(() => {
    try {
      const [result] = db.pragma('wal_checkpoint(PASSIVE)') as { busy: number; log: number; checkpointed: number }[];
      // Only progress is reported: an idle database wakes nobody.
      if (!result || result.checkpointed <= 0 || (result.log === reported.log && result.checkpointed === reported.checkpointed)) return;
      reported = { log: result.log, checkpointed: result.checkpointed };
      port.postMessage({ type: 'checkpoint', ...reported } satisfies CheckpointReport);
    } catch {
      // Busy, or the file is going away: the next tick (or the writer's own backstop) checkpoints.
    }
  }, data.intervalMs);
  port.on('message', (message) => {
    if (message !== 'stop') return;
    clearInterval(timer);
    db.close();
    port.close();
  });
}
