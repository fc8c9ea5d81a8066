/**
 * The WAL checkpointer's thread (see `background-checkpoints.ts`): its own
 * connection to the file, a PASSIVE checkpoint every `intervalMs` (it copies
 * committed pages into the database file and fsyncs it without taking the
 * write lock).
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { loadAddon } from './load-addon.js';

export interface CheckpointThreadData {
  role: 'handinger-checkpointer';
  path: string;
  intervalMs: number;
  /** A better-sqlite3 addon file to load (the single executable's extracted one); else the package's own. */
  addonPath?: string;
}

const data = workerData as CheckpointThreadData;
if (parentPort && data?.role === 'handinger-checkpointer') {
  const port = parentPort;
  const db = new Database(data.path, { fileMustExist: true, ...(data.addonPath ? { nativeBinding: loadAddon(data.addonPath) as unknown as string } : {}) });
  // Never wait for a lock: a checkpoint that finds another one running tries again at the next tick.
  db.pragma('busy_timeout = 0');
  const timer = setInterval(() => {
    try {
      db.pragma('wal_checkpoint(PASSIVE)');
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
