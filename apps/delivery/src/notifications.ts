import { buildPayload, buildTestPayload, serializePayload, streams, type NotificationType, type TaskCompleted } from '@handinger-webhooks/contracts';
import type { EventLog, RecordedEvent } from '@handinger-webhooks/event-store';
import type { ClaimedAttempt } from '@handinger-webhooks/projections';

/** What every attempt of a delivery sends and records: a pure function of the task's completion. */
export interface Notification {
  /** The body of SPEC §5, serialized once: signature and body cannot disagree, and retries send the same bytes. */
  body: Buffer;
  taskTitle: string | null;
  type: NotificationType;
}

export const notificationOf = (task: TaskCompleted['data']): Notification => {
  const payload = buildPayload(task);
  return { body: serializePayload(payload), taskTitle: task.title, type: payload.type };
};

/** A test notification (SPEC §8.2): `timestamp` is when it was first sent, so a redelivery sends the same bytes. */
export const testNotificationOf = (workerId: string, timestamp: string): Notification => ({
  body: serializePayload(buildTestPayload(workerId, timestamp)),
  taskTitle: null,
  type: 'webhook.test',
});

/** Notifications kept in memory (a few hundred bytes each): the next attempts of pending deliveries mostly. */
const KEPT = 10_000;

/**
 * The notifications of claimed attempts, from the log: the completion each
 * delivery points at (one lookup by position for a whole claim, by task id
 * for deliveries from before positions were recorded), kept in a bounded
 * cache so a retry neither reads nor re-serializes it. `undefined` for a
 * delivery whose completion the log does not hold.
 */
export class NotificationSource {
  private readonly cache = new Map<number | string, Notification>();

  constructor(private readonly log: EventLog) {}

  async forClaims(claims: readonly ClaimedAttempt[]): Promise<Map<string, Notification | undefined>> {
    const byDelivery = new Map<string, Notification | undefined>();
    const missing: number[] = [];
    for (const claim of claims) {
      if (claim.taskId === null) {
        // A test notification, redelivered: its body is rebuilt from when it was first sent.
        byDelivery.set(claim.deliveryId, claim.firstAttemptedAt === null ? undefined : testNotificationOf(claim.workerId, claim.firstAttemptedAt));
        continue;
      }
      const key = claim.taskPosition ?? claim.taskId;
      const cached = this.cache.get(key);
      if (cached !== undefined) byDelivery.set(claim.deliveryId, cached);
      else if (claim.taskPosition !== null) missing.push(claim.taskPosition);
    }
    const found = new Map<number, RecordedEvent>((await this.log.eventsAt(this.log.db.sql, missing)).map((event) => [event.globalPosition, event]));
    for (const claim of claims) {
      if (byDelivery.has(claim.deliveryId)) continue;
      const event = claim.taskPosition !== null ? found.get(claim.taskPosition) : (await this.log.readStream(this.log.db.sql, streams.task(claim.taskId!)))[0];
      const notification = event?.type === 'TaskCompleted' ? notificationOf((event as RecordedEvent<TaskCompleted>).data) : undefined;
      if (notification !== undefined) this.keep(claim.taskPosition ?? claim.taskId!, notification);
      byDelivery.set(claim.deliveryId, notification);
    }
    return byDelivery;
  }

  /** Drops a delivery's notification (it is over: no attempt will send it again). */
  forget(claim: ClaimedAttempt): void {
    if (claim.taskId !== null) this.cache.delete(claim.taskPosition ?? claim.taskId);
  }

  private keep(key: number | string, notification: Notification): void {
    if (this.cache.size >= KEPT) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(key, notification);
  }
}
