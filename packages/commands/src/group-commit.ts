import type { EventStore } from '@handinger-webhooks/event-store';
import type { StreamStateCache } from './stream-state-cache.js';

type Pending = { work: () => unknown; resolve: (value: unknown) => void; reject: (error: unknown) => void };

/**
 * Group commit: commands issued concurrently (in the same turn of the event
 * loop) share one SQLite transaction, each inside its own savepoint so a
 * rejected command rolls back alone. Every caller is answered only after
 * the shared COMMIT, so nothing is acknowledged before it is durable. The
 * stream-state cache follows the same boundaries (see StreamStateCache).
 */
export class GroupCommit {
  private queue: Pending[] = [];
  private scheduled = false;

  constructor(
    private readonly store: EventStore,
    private readonly cache: StreamStateCache,
    private readonly maxBatch = 512,
  ) {}

  /** Runs `work` (synchronous reads, decides and appends) in the next shared transaction. */
  run<T>(work: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.queue.splice(0, this.maxBatch);
    if (this.queue.length > 0) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
    // A lone command needs no savepoint: if it throws, its transaction rolls back whole.
    const isolate = batch.length > 1;
    const outcomes: { ok: boolean; value: unknown }[] = [];
    try {
      this.store.transaction(() => {
        for (const item of batch) {
          try {
            outcomes.push({ ok: true, value: isolate ? this.store.transaction(item.work) : item.work() });
            this.cache.commandSucceeded();
          } catch (error) {
            this.cache.commandFailed();
            if (!isolate) throw error;
            outcomes.push({ ok: false, value: error });
          }
        }
      });
    } catch (error) {
      this.cache.batchFailed();
      for (const item of batch) item.reject(error);
      return;
    }
    this.cache.batchCommitted();
    batch.forEach((item, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) item.resolve(outcome.value);
      else item.reject(outcome.value);
    });
  }
}
