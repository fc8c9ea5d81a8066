/** A stream's folded state at a version, as one decider sees it. */
export interface CachedStream {
  decider: object;
  version: number;
  state: unknown;
}

/**
 * Folded stream states kept between commands, so a command on a stream it
 * already knows skips reading and folding the stream. Safe across processes
 * because an entry can only lag behind the log, never run ahead of it: an
 * append at a lagging version collides on the unique (stream, position)
 * index and the caller re-reads (see `Commands`).
 *
 * Entries only become visible to later transactions once their transaction
 * commits: writes are staged per command and per group-committed batch, and
 * a command or batch that rolls back leaves nothing behind. Bounded: the
 * least recently written streams are evicted first.
 */
export class StreamStateCache {
  private readonly committed = new Map<string, CachedStream>();
  /** Commands of the current batch that succeeded (visible inside the batch's transaction). `null`: forgotten. */
  private readonly batch = new Map<string, CachedStream | null>();
  /** The command running now. */
  private readonly item = new Map<string, CachedStream | null>();

  constructor(private readonly capacity = 50_000) {}

  get(streamId: string): CachedStream | undefined {
    const staged = this.item.has(streamId) ? this.item.get(streamId) : this.batch.has(streamId) ? this.batch.get(streamId) : undefined;
    if (staged === null) return undefined;
    return staged ?? this.committed.get(streamId);
  }

  /** Records what the running command left the stream at. */
  stage(streamId: string, entry: CachedStream): void {
    this.item.set(streamId, entry);
  }

  /** Drops a stream's entry (it turned out stale). */
  forget(streamId: string): void {
    this.item.set(streamId, null);
  }

  /** The running command's writes join the batch (its savepoint was released). */
  commandSucceeded(): void {
    for (const [id, entry] of this.item) this.batch.set(id, entry);
    this.item.clear();
  }

  /** The running command rolled back to its savepoint: its writes never happened. */
  commandFailed(): void {
    this.item.clear();
  }

  /** The batch's transaction committed: its writes are now the log's truth. */
  batchCommitted(): void {
    for (const [id, entry] of this.batch) {
      this.committed.delete(id);
      if (entry !== null) this.committed.set(id, entry);
    }
    this.batch.clear();
    for (const id of this.committed.keys()) {
      if (this.committed.size <= this.capacity) break;
      this.committed.delete(id);
    }
  }

  /** The batch's transaction rolled back. */
  batchFailed(): void {
    this.batch.clear();
    this.item.clear();
  }
}
