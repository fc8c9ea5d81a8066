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
  /** Writes of the current batch's transaction, visible inside it. `null`: forgotten. */
  private readonly pending = new Map<string, CachedStream | null>();
  /** What the running command overwrote in `pending`, to put back if it rolls back. */
  private readonly undo: [string, CachedStream | null | undefined][] = [];

  constructor(private readonly capacity = 50_000) {}

  get(streamId: string): CachedStream | undefined {
    const staged = this.pending.get(streamId);
    if (staged === null) return undefined;
    return staged ?? this.committed.get(streamId);
  }

  /** Records what the running command left the stream at. */
  stage(streamId: string, entry: CachedStream): void {
    this.write(streamId, entry);
  }

  /** Drops a stream's entry (it turned out stale). */
  forget(streamId: string): void {
    this.write(streamId, null);
  }

  private write(streamId: string, entry: CachedStream | null): void {
    this.undo.push([streamId, this.pending.get(streamId)]);
    this.pending.set(streamId, entry);
  }

  /** The running command's writes stay with the batch (its savepoint was released). */
  commandSucceeded(): void {
    this.undo.length = 0;
  }

  /** The running command rolled back to its savepoint: its writes never happened. */
  commandFailed(): void {
    for (let i = this.undo.length - 1; i >= 0; i--) {
      const [streamId, previous] = this.undo[i]!;
      if (previous === undefined) this.pending.delete(streamId);
      else this.pending.set(streamId, previous);
    }
    this.undo.length = 0;
  }

  /** The batch's transaction committed: its writes are now the log's truth. */
  batchCommitted(): void {
    for (const [id, entry] of this.pending) {
      this.committed.delete(id);
      if (entry !== null) this.committed.set(id, entry);
    }
    this.pending.clear();
    this.undo.length = 0;
    if (this.committed.size <= this.capacity) return;
    for (const id of this.committed.keys()) {
      if (this.committed.size <= this.capacity) break;
      this.committed.delete(id);
    }
  }

  /** The batch's transaction rolled back. */
  batchFailed(): void {
    this.pending.clear();
    this.undo.length = 0;
  }
}
