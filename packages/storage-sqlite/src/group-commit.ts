import { COMMIT_SIGNAL, type TxSql } from '@handinger-webhooks/event-store';
import { TransactionSql, type ConnectionSql } from './connection-sql.js';

type Outcome = { ok: boolean; value: unknown };
type Pending = { work: (tx: TxSql) => Promise<unknown>; resolve: (value: unknown) => void; reject: (error: unknown) => void };

/**
 * Group commit on the writer connection: write transactions requested in
 * the same turn of the event loop share one `BEGIN IMMEDIATE` … `COMMIT`.
 * Every caller is answered only after the shared COMMIT, so nothing is
 * acknowledged before it is durable. Batches run one after another, never
 * overlapping (one connection, one transaction). A `work` must not start
 * another transaction and wait for it: that one waits for this batch.
 *
 * A failing work must roll back alone. A savepoint per work would do it,
 * but makes SQLite copy every page a work touches first into its
 * sub-journal (a third of a batch's cost, measured), and works rarely fail
 * after writing: a work that throws before its first write is simply
 * answered with its error. So a batch first runs without savepoints; only
 * when a work fails after writing is the transaction rolled back and the
 * batch run again, each work in a savepoint of its own (the port allows
 * a work to run more than once before it commits: `Database.transaction`).
 */
export class GroupCommit {
  private queue: Pending[] = [];
  private draining = false;

  constructor(
    private readonly writer: ConnectionSql,
    private readonly onCommitted: (signals: ReadonlySet<string>) => void,
    private readonly maxBatch = 512,
  ) {}

  run<T>(work: (tx: TxSql) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
      if (!this.draining) {
        this.draining = true;
        setImmediate(() => void this.drain());
      }
    });
  }

  /**
   * One batch per turn of the event loop: requests made while a batch runs
   * (and the callers woken by its commit, several promise hops later) all
   * join the next batch, which starts on `setImmediate`, once they are queued.
   */
  private async drain(): Promise<void> {
    try {
      await this.runBatch(this.queue.splice(0, this.maxBatch));
    } finally {
      this.draining = this.queue.length > 0;
      if (this.draining) setImmediate(() => void this.drain());
    }
  }

  private async runBatch(batch: Pending[]): Promise<void> {
    const signals = new Set<string>();
    const tx = new TransactionSql(this.writer, signals);
    let outcomes: Outcome[];
    try {
      outcomes = (await this.runOnce(batch, tx, signals, 'shared')) ?? (await this.runOnce(batch, tx, signals, 'isolated'))!;
    } catch (error) {
      if (this.writer.connection.inTransaction) this.exec('ROLLBACK');
      for (const item of batch) item.reject(error);
      return;
    }
    batch.forEach((item, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) item.resolve(outcome.value);
      else item.reject(outcome.value);
    });
    signals.add(COMMIT_SIGNAL);
    this.onCommitted(signals);
  }

  private exec(statement: string): void {
    this.writer.statement(statement).run();
  }

  /**
   * Runs every work of the batch in one transaction and commits it, either
   * `shared` (no savepoints) or `isolated` (a savepoint per work). Returns
   * each work's outcome, or (`shared` only) `null` after rolling back when
   * a work failed after writing: the batch must run again, isolated.
   * Throws when the whole transaction failed (SQLite ends it on some
   * errors, a full disk among them): then nothing of the batch stands.
   */
  private async runOnce(batch: Pending[], tx: TransactionSql, signals: Set<string>, mode: 'shared' | 'isolated'): Promise<Outcome[] | null> {
    const isolate = mode === 'isolated';
    signals.clear(); // those of a run that was rolled back
    const outcomes: Outcome[] = [];
    this.exec('BEGIN IMMEDIATE');
    for (const item of batch) {
      if (isolate) this.exec('SAVEPOINT command');
      const writesBefore = this.writer.writes;
      try {
        outcomes.push({ ok: true, value: await item.work(tx) });
        if (isolate) this.exec('RELEASE command');
      } catch (error) {
        // A lone work needs no isolation (its transaction rolls back whole), nor does one SQLite ended the transaction for.
        if (batch.length === 1 || !this.writer.connection.inTransaction) throw error;
        if (isolate) {
          this.exec('ROLLBACK TO command');
          this.exec('RELEASE command');
        } else if (this.writer.writes !== writesBefore) {
          this.exec('ROLLBACK');
          return null;
        }
        outcomes.push({ ok: false, value: error });
      }
    }
    this.exec('COMMIT');
    return outcomes;
  }
}
