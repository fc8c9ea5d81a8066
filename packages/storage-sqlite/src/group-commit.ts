import { COMMIT_SIGNAL, type TxSql } from '@handinger-webhooks/event-store';
import { TransactionSql, type ConnectionSql } from './connection-sql.js';

type Pending = { work: (tx: TxSql) => Promise<unknown>; resolve: (value: unknown) => void; reject: (error: unknown) => void };

/**
 * Group commit on the writer connection: write transactions requested in
 * the same turn of the event loop share one `BEGIN IMMEDIATE` … `COMMIT`,
 * each inside its own savepoint, so a failing one rolls back alone. Every
 * caller is answered only after the shared COMMIT, so nothing is
 * acknowledged before it is durable. Batches run one after another, never
 * overlapping (one connection, one transaction). A `work` must not start
 * another transaction and wait for it: that one waits for this batch.
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
    const connection = this.writer.connection;
    const exec = (statement: string) => this.writer.statement(statement).run();
    const signals = new Set<string>();
    const tx = new TransactionSql(this.writer, signals);
    // A lone request needs no savepoint: if it throws, its transaction rolls back whole.
    const isolate = batch.length > 1;
    const outcomes: { ok: boolean; value: unknown }[] = [];
    try {
      exec('BEGIN IMMEDIATE');
      for (const item of batch) {
        if (isolate) exec('SAVEPOINT command');
        try {
          outcomes.push({ ok: true, value: await item.work(tx) });
          if (isolate) exec('RELEASE command');
        } catch (error) {
          // SQLite ends the whole transaction on some errors (a full disk): then nothing of the batch stands.
          if (!isolate || !connection.inTransaction) throw error;
          exec('ROLLBACK TO command');
          exec('RELEASE command');
          outcomes.push({ ok: false, value: error });
        }
      }
      exec('COMMIT');
    } catch (error) {
      if (connection.inTransaction) exec('ROLLBACK');
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
}
