import type { TaskCompleted } from '@handinger-webhooks/contracts';
import type { Application } from '@handinger-webhooks/commands';
import { Checkpoints, type RecordedEvent } from '@handinger-webhooks/event-store';
import type { WebhookRow } from '@handinger-webhooks/projections';
import { notificationOf, type Notification, type NotificationCache } from './notifications.js';

/** The durable position of the scheduler in the log. */
export const SCHEDULER_CHECKPOINT = 'delivery-scheduler';

/** The delivery app's own bookkeeping: most of the log while deliveries run, and nothing the scheduler acts on. */
const BOOKKEEPING = ['DeliveryAttempted', 'DeliveryScheduled', 'DeliveryDropped'];

/** What one call of `runBatch` did and saw. */
export interface SchedulerBatch {
  /** Deliveries opened. */
  scheduled: number;
  /** Whether the log may hold more to handle now. */
  more: boolean;
  /** The origins of the deliveries opened (due at once). */
  origins: Set<string>;
  /**
   * An event that may change which pending attempts can be claimed (a
   * webhook set, moved, rotated or removed, a worker deleted) was seen.
   */
  changed: boolean;
}

const isCompletion = (event: RecordedEvent): event is RecordedEvent<TaskCompleted> => event.type === 'TaskCompleted';

/** Event types after which any pending attempt may have become claimable or droppable. */
const changesWhatIsClaimable = (type: string): boolean => type.startsWith('Webhook') || type === 'WorkerDeleted';

/**
 * Turns task completions into deliveries. Follows the log from its durable
 * checkpoint; each batch with completions schedules them and moves the
 * checkpoint in one `BEGIN IMMEDIATE` transaction, so a completion is
 * scheduled exactly once across crashes and however many processes run a
 * scheduler.
 *
 * A completion is delivered only when its worker's webhook existed when the
 * completion was accepted: the webhook row must still be the generation
 * configured before the event (`generation < globalPosition`). A webhook
 * set afterwards, or removed and set again since, is a newer generation.
 *
 * Most of the log is delivery bookkeeping, so the scan runs outside any
 * transaction, leaves bookkeeping events out inside SQLite, and resumes from the position it reached in memory (events below the head are
 * immutable). The write lock is taken only for a batch holding a completion,
 * or to persist a long stretch without any (`checkpointEvery`), so a
 * restart rescans little. It also reports webhook changes it passes, for the
 * claimer.
 */
export class Scheduler {
  private readonly checkpoints: Checkpoints;
  /** Everything up to here was looked at (and handled durably, or verified to hold no completion). */
  private scanned = -1;
  /** The checkpoint as last read or written. */
  private persisted = -1;

  /**
   * @param notifications where the bodies of the deliveries it opens go, for their claims
   * @param batchSize completions (and other non-bookkeeping events) handled per batch
   * @param checkpointEvery persist the position at least this often (in
   *   events) even when none is a completion, so a restart rescans little
   */
  constructor(
    private readonly app: Application,
    private readonly notifications?: NotificationCache,
    private readonly batchSize = 1_000,
    private readonly checkpointEvery = 10_000,
  ) {
    this.checkpoints = new Checkpoints(app.db);
  }

  /** Handles the next batch of the log after the position reached. */
  runBatch(): SchedulerBatch {
    const { store } = this.app;
    const origins = new Set<string>();
    const head = store.headPosition();
    if (this.scanned < 0) {
      // First run: other processes may have moved the shared checkpoint; older events were handled.
      this.scanned = this.persisted = this.checkpoints.get(SCHEDULER_CHECKPOINT);
    }
    if (head <= this.scanned) return { scheduled: 0, more: false, origins, changed: false };
    const events = store.readAllExcept(this.scanned, head, this.batchSize, BOOKKEEPING);
    const more = events.length === this.batchSize;
    const upTo = more ? events[events.length - 1]!.globalPosition : head;
    const completions = events.filter(isCompletion);
    const changed = events.some((event) => changesWhatIsClaimable(event.type));
    if (completions.length === 0) {
      this.scanned = upTo;
      if (upTo - this.persisted >= this.checkpointEvery) this.persist(upTo);
      return { scheduled: 0, more, origins, changed };
    }
    const opened: [string, Notification][] = [];
    const scheduled = store.transaction(() => {
      // Another process's scheduler may be ahead: never handle an event twice.
      const from = this.checkpoints.get(SCHEDULER_CHECKPOINT);
      const webhooks = new Map<string, WebhookRow | undefined>();
      for (const completion of completions) if (completion.globalPosition > from) this.schedule(completion, origins, webhooks, opened);
      this.checkpoints.set(SCHEDULER_CHECKPOINT, Math.max(from, upTo));
      return opened.length;
    });
    this.scanned = this.persisted = upTo;
    // Committed: the claims of these deliveries need not read their completions again.
    if (this.notifications) for (const [deliveryId, notification] of opened) this.notifications.put(deliveryId, notification);
    return { scheduled, more, origins, changed };
  }

  /** Moves the checkpoint over a stretch without completions (never backwards: another process may be ahead). */
  private persist(position: number): void {
    this.app.store.transaction(() => {
      if (this.checkpoints.get(SCHEDULER_CHECKPOINT) < position) this.checkpoints.set(SCHEDULER_CHECKPOINT, position);
    });
    this.persisted = position;
  }

  /** Opens the completion's delivery if its webhook was configured when it was accepted. */
  private schedule(
    completion: RecordedEvent<TaskCompleted>,
    origins: Set<string>,
    webhooks: Map<string, WebhookRow | undefined>,
    opened: [string, Notification][],
  ): void {
    const task = completion.data;
    let webhook = webhooks.get(task.workerId);
    if (webhook === undefined && !webhooks.has(task.workerId)) {
      // Scheduling changes no webhook: one read per worker per batch.
      webhook = this.app.readModels.webhook(task.workerId);
      webhooks.set(task.workerId, webhook);
    }
    if (webhook === undefined || webhook.generation >= completion.globalPosition) return;
    const deliveryId = this.app.commands.scheduleDeliveryNow({ workerId: task.workerId, taskId: task.taskId, webhookGeneration: webhook.generation });
    origins.add(webhook.origin);
    opened.push([deliveryId, notificationOf(task)]);
  }
}
