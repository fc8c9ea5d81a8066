import type { TaskCompleted } from '@handinger-webhooks/contracts';
import type { Application } from '@handinger-webhooks/commands';
import { Checkpoints } from '@handinger-webhooks/event-store';
import type { Statement } from 'better-sqlite3';

/** The durable position of the scheduler in the log. */
export const SCHEDULER_CHECKPOINT = 'delivery-scheduler';


type CompletionRow = { global_position: number; data: string };

/**
 * Turns task completions into deliveries. Follows the log from its durable
 * checkpoint; each batch schedules and moves the checkpoint in one
 * `BEGIN IMMEDIATE` transaction, so a completion is scheduled exactly once
 * across crashes and however many processes run a scheduler.
 *
 * A completion is delivered only when its worker's webhook existed when the
 * completion was accepted: the webhook row must still be the generation
 * configured before the event (`generation < globalPosition`). A webhook
 * set afterwards, or removed and set again since, is a newer generation.
 *
 * Most of the log is delivery bookkeeping, so the scan reads completions
 * only (no JSON for the rest) and takes the write lock only when it found
 * one (or to persist a long stretch without any).
 */
export class Scheduler {
  private readonly checkpoints: Checkpoints;
  private readonly completions: Statement<[number, number, number], CompletionRow>;
  /** Everything up to here was handled (durably, or verified to hold no completion). */
  private scanned = -1;
  private persisted = -1;

  /**
   * @param batchSize completions scheduled per transaction
   * @param checkpointEvery persist the position at least this often (in
   *   events) even when none is a completion, so a restart rescans little
   */
  constructor(
    private readonly app: Application,
    private readonly batchSize = 1_000,
    private readonly checkpointEvery = 10_000,
  ) {
    this.checkpoints = new Checkpoints(app.db);
    this.completions = app.db.prepare(
      `SELECT global_position, data FROM events
       WHERE global_position > ? AND global_position <= ? AND type = 'TaskCompleted'
       ORDER BY global_position LIMIT ?`,
    );
  }

  /**
   * Handles the next batch of completions after the checkpoint. Returns the
   * number of deliveries scheduled and whether the log may hold more.
   */
  runBatch(): { scheduled: number; more: boolean } {
    const { store } = this.app;
    const head = store.headPosition();
    if (head <= this.scanned) return { scheduled: 0, more: false };
    if (this.scanned < 0) this.scanned = this.persisted = this.checkpoints.get(SCHEDULER_CHECKPOINT);
    // A read outside any transaction first: most commits append no completion.
    if (this.completions.get(this.scanned, head, 1) === undefined && head - this.persisted < this.checkpointEvery) {
      this.scanned = head;
      return { scheduled: 0, more: false };
    }
    return store.transaction(() => {
      // Another process's scheduler may be ahead: never handle an event twice.
      const from = Math.max(this.scanned, this.checkpoints.get(SCHEDULER_CHECKPOINT));
      const upTo = store.headPosition();
      const rows = this.completions.all(from, upTo, this.batchSize);
      let scheduled = 0;
      for (const row of rows) if (this.schedule(row)) scheduled++;
      const more = rows.length === this.batchSize;
      const position = more ? rows[rows.length - 1]!.global_position : upTo;
      this.checkpoints.set(SCHEDULER_CHECKPOINT, position);
      this.scanned = this.persisted = position;
      return { scheduled, more };
    });
  }

  /** Opens the completion's delivery if its webhook was configured when it was accepted. */
  private schedule(row: CompletionRow): boolean {
    const task = JSON.parse(row.data) as TaskCompleted['data'];
    const webhook = this.app.readModels.webhook(task.workerId);
    if (webhook === undefined || webhook.generation >= row.global_position) return false;
    this.app.commands.scheduleDeliveryNow({ workerId: task.workerId, taskId: task.taskId, webhookGeneration: webhook.generation });
    return true;
  }
}
