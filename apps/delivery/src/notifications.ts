import type { TaskCompleted } from '@handinger-webhooks/contracts';
import { buildPayload, serializePayload } from './payload.js';

/** What every attempt of a delivery sends and records: a pure function of the task's completion. */
export interface Notification {
  /** The body of SPEC §5, serialized once: signature and body cannot disagree, and retries send the same bytes. */
  body: Buffer;
  taskTitle: string | null;
}

export const notificationOf = (task: TaskCompleted['data']): Notification => ({
  body: serializePayload(buildPayload(task)),
  taskTitle: task.title,
});

/**
 * Notifications of pending deliveries, kept so a claim neither reads nor
 * re-serializes the completion: put by the scheduler when it opens a
 * delivery (it has just read the completion) and by a claim that had to
 * read it, removed when the delivery ends. Only an optimization (the log is
 * the truth, and a miss reads it). Bounded; when full it admits nothing
 * new: the queue is worked oldest first, so what is already in is what is
 * needed next, and the rest is read when its turn comes.
 */
export class NotificationCache {
  private readonly entries = new Map<string, Notification>();

  constructor(private readonly capacity: number) {}

  get(deliveryId: string): Notification | undefined {
    return this.entries.get(deliveryId);
  }

  put(deliveryId: string, notification: Notification): void {
    if (this.entries.size < this.capacity) this.entries.set(deliveryId, notification);
  }

  delete(deliveryId: string): void {
    this.entries.delete(deliveryId);
  }
}
