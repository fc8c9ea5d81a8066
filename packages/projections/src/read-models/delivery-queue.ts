import { attemptResultOf, type DeliveryAttempted, type DeliveryResent, type DomainEvent } from '@handinger-webhooks/contracts';
import type { RecordedEvent, TxSql } from '@handinger-webhooks/event-store';
import { CLAIMS_TABLE } from '../schema.js';
import { LIVE_TABLES, type TableSet } from '../tables.js';
import type { Projection } from './projection.js';
import { lockWorker } from './worker-lock.js';

/** Raised after a commit that put work in the queue: the delivery loop looks at once (other processes poll, or hear it through NOTIFY). */
export const DELIVERY_WORK_SIGNAL = 'delivery-work';

/** Metadata key of the claim an attempt was made under (see the fence below). */
export const CLAIM_METADATA = 'claim';

const claimOf = (event: RecordedEvent): string | null => {
  const claim = event.metadata[CLAIM_METADATA];
  return typeof claim === 'string' ? claim : null;
};

const QUEUE_COLUMNS = 'due_at, delivery_id, worker_id, task_id, task_position, generation, attempt, version, origin, trigger, one_shot, recovery_id, first_attempted_at';
const HELD_COLUMNS = 'worker_id, delivery_id, task_id, task_position, generation, attempt, version, one_shot, recovery_id, first_attempted_at';

/**
 * The pending deliveries, one row each holding its next attempt: the
 * projection of the delivery streams. Each delivery event carries the due
 * time of the attempt it concerns, so its row is found by key (due_at,
 * delivery_id) and rescheduling moves it within one B-tree. The row always
 * follows its stream, so a rebuild gives exactly the live table.
 *
 * The deliveries of a disabled webhook (SPEC §8.5) wait in the held table
 * instead, where no claim looks: a disable moves the worker's rows there,
 * an enable moves them back due at the enable (oldest first: delivery ids
 * are ULIDs), with `enable` as the trigger, and a removal moves them back
 * for the delivery loop to drop as it drops every orphan.
 *
 * The fence is on the claim, not the schedule: an event recorded under a
 * claim (its metadata names the claim token) releases that claim only. A
 * process whose claim lapsed, and whose attempt another process has claimed
 * meanwhile, records its execution, and the stream's schedule moves on, but
 * the other process keeps its claim (it is still sending) until it records
 * or its claim lapses in turn. Such a `superseded` send also puts the row it
 * was claimed from where its stream's next attempt is (a row an operator's
 * resend moved while its attempt was on the wire), so no stale row stays.
 */
export function deliveryQueueProjector(t: TableSet): Projection {
  const webhookOf = `SELECT origin, status FROM ${t.webhooks} WHERE worker_id = ?`;
  const enqueue = `INSERT INTO ${t.deliveryQueue} (${QUEUE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;
  const hold = `INSERT INTO ${t.heldDeliveries} (${HELD_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;
  const reschedule = `UPDATE ${t.deliveryQueue} SET due_at = ?, attempt = ?, version = ?, trigger = 'retry', recovery_id = NULL,
       first_attempted_at = COALESCE(first_attempted_at, ?) WHERE due_at = ? AND delivery_id = ?`;
  const rescheduleHeld = `UPDATE ${t.heldDeliveries} SET attempt = ?, version = ?, recovery_id = NULL, first_attempted_at = COALESCE(first_attempted_at, ?)
     WHERE worker_id = ? AND delivery_id = ?`;
  const moveStale = `UPDATE ${t.deliveryQueue} SET due_at = ?, attempt = ?, version = ? WHERE due_at = ? AND delivery_id = ?`;
  const finish = `DELETE FROM ${t.deliveryQueue} WHERE due_at = ? AND delivery_id = ?`;
  // No index on delivery_id alone (it would cost every insert and delete of the hot path): only a resend that missed its row reads this way.
  const finishAnywhere = `DELETE FROM ${t.deliveryQueue} WHERE delivery_id = ?`;
  const finishHeld = `DELETE FROM ${t.heldDeliveries} WHERE worker_id = ? AND delivery_id = ?`;
  const countHeld = `UPDATE ${t.webhooks} SET held_count = held_count + ? WHERE worker_id = ?`;
  const holdAll = `INSERT INTO ${t.heldDeliveries} (${HELD_COLUMNS}) SELECT ${HELD_COLUMNS} FROM ${t.deliveryQueue} WHERE worker_id = ?`;
  const dequeueAll = `DELETE FROM ${t.deliveryQueue} WHERE worker_id = ?`;
  const releaseAll = (trigger: 'enable' | 'delivery') =>
    `INSERT INTO ${t.deliveryQueue} (${QUEUE_COLUMNS})
     SELECT ?, delivery_id, worker_id, task_id, task_position, generation, attempt, version, ?, '${trigger}', one_shot, recovery_id, first_attempted_at
     FROM ${t.heldDeliveries} WHERE worker_id = ?`;
  const releaseForEnable = releaseAll('enable');
  const releaseForDrop = releaseAll('delivery');
  const unholdAll = `DELETE FROM ${t.heldDeliveries} WHERE worker_id = ?`;
  const resetHeld = `UPDATE ${t.webhooks} SET held_count = 0 WHERE worker_id = ?`;
  const release = `DELETE FROM ${CLAIMS_TABLE} WHERE delivery_id = ? AND token = ?`;
  // Claims are live state, not projections: projecting into a rebuild's aside tables leaves them alone.
  const live = t === LIVE_TABLES;

  /** Puts a row in the queue, or in the held table while the webhook is disabled. */
  const place = async (
    tx: TxSql,
    row: { dueAt: string; deliveryId: string; workerId: string; taskId: string | null; taskPosition: number; generation: number; attempt: number; version: number },
    extra: { trigger: string; oneShot: boolean; recoveryId: string | null; firstAttemptedAt: string | null },
  ): Promise<void> => {
    const webhook = await tx.get<{ origin: string; status: string }>(webhookOf, [row.workerId]);
    const [oneShot, recoveryId, firstAttemptedAt] = [extra.oneShot ? 1 : 0, extra.recoveryId, extra.firstAttemptedAt];
    if (webhook?.status === 'disabled') {
      await tx.run(hold, [row.workerId, row.deliveryId, row.taskId, row.taskPosition, row.generation, row.attempt, row.version, oneShot, recoveryId, firstAttemptedAt]);
      await tx.run(countHeld, [1, row.workerId]);
      return;
    }
    const values = [Date.parse(row.dueAt), row.deliveryId, row.workerId, row.taskId, row.taskPosition, row.generation, row.attempt, row.version];
    await tx.run(enqueue, [...values, webhook?.origin ?? null, extra.trigger, oneShot, recoveryId, firstAttemptedAt]);
    tx.signalAfterCommit(DELIVERY_WORK_SIGNAL);
  };

  /** Ends a delivery's row, wherever it is; whether there was one where its stream says. */
  const remove = async (tx: TxSql, workerId: string, dueAt: string, deliveryId: string): Promise<boolean> => {
    if ((await tx.run(finish, [Date.parse(dueAt), deliveryId])) > 0) return true;
    if ((await tx.run(finishHeld, [workerId, deliveryId])) === 0) return false;
    await tx.run(countHeld, [-1, workerId]);
    return true;
  };

  const attempted = async (tx: TxSql, event: RecordedEvent, d: DeliveryAttempted['data']): Promise<void> => {
    if (d.trigger === 'test') return; // a test has no row: its one attempt is the whole delivery
    if (attemptResultOf(d) === 'superseded') {
      if (d.nextAttemptAt === null) await tx.run(finish, [Date.parse(d.dueAt), d.deliveryId]);
      else await tx.run(moveStale, [Date.parse(d.nextAttemptAt), d.nextAttempt ?? d.attempt + 1, event.streamPosition, Date.parse(d.dueAt), d.deliveryId]);
      return;
    }
    if (d.nextAttemptAt === null) {
      await remove(tx, d.workerId, d.dueAt, d.deliveryId);
      return;
    }
    const next = d.nextAttempt ?? d.attempt + 1;
    if ((await tx.run(reschedule, [Date.parse(d.nextAttemptAt), next, event.streamPosition, d.startedAt, Date.parse(d.dueAt), d.deliveryId])) > 0) {
      tx.signalAfterCommit(DELIVERY_WORK_SIGNAL);
      return;
    }
    // Disabled while it was on the wire: its row waits in the held table.
    await tx.run(rescheduleHeld, [next, event.streamPosition, d.startedAt, d.workerId, d.deliveryId]);
  };

  const resent = async (tx: TxSql, event: RecordedEvent, d: DeliveryResent['data']): Promise<void> => {
    // An enable moved the row from where its stream last put it (due at the enable): then found by id (rare, operator-driven).
    if (d.previousDueAt !== undefined && !(await remove(tx, d.workerId, d.previousDueAt, d.deliveryId))) await tx.run(finishAnywhere, [d.deliveryId]);
    await place(
      tx,
      { dueAt: d.dueAt, deliveryId: d.deliveryId, workerId: d.workerId, taskId: d.taskId, taskPosition: d.taskPosition ?? 0, generation: d.webhookGeneration, attempt: d.attempt, version: event.streamPosition },
      { trigger: d.trigger, oneShot: d.oneShot, recoveryId: d.recoveryId ?? null, firstAttemptedAt: d.firstAttemptedAt ?? null },
    );
  };

  return {
    handles: ['DeliveryScheduled', 'DeliveryAttempted', 'DeliveryDropped', 'DeliveryResent', 'WebhookDisabled', 'WebhookEnabled', 'WebhookRemoved'],
    async project(tx: TxSql, event: RecordedEvent<DomainEvent>): Promise<void> {
      switch (event.type) {
        case 'DeliveryScheduled': {
          const d = event.data;
          await place(
            tx,
            { dueAt: d.dueAt, deliveryId: d.deliveryId, workerId: d.workerId, taskId: d.taskId, taskPosition: d.taskPosition ?? 0, generation: d.webhookGeneration, attempt: 1, version: event.streamPosition },
            { trigger: 'delivery', oneShot: false, recoveryId: null, firstAttemptedAt: null },
          );
          break;
        }
        case 'DeliveryAttempted':
          await attempted(tx, event, event.data);
          break;
        case 'DeliveryResent':
          await resent(tx, event, event.data);
          break;
        case 'DeliveryDropped':
          await remove(tx, event.data.workerId, event.data.dueAt, event.data.deliveryId);
          break;
        case 'WebhookDisabled': {
          // A recording of this worker in another transaction (PostgreSQL) commits first, or waits: no row is copied stale.
          await lockWorker(tx, event.data.workerId);
          const moved = await tx.run(holdAll, [event.data.workerId]);
          await tx.run(dequeueAll, [event.data.workerId]);
          await tx.run(countHeld, [moved, event.data.workerId]);
          break;
        }
        case 'WebhookEnabled': {
          await lockWorker(tx, event.data.workerId);
          const origin = (await tx.get<{ origin: string }>(webhookOf, [event.data.workerId]))?.origin ?? null;
          await tx.run(releaseForEnable, [Date.parse(event.data.enabledAt), origin, event.data.workerId]);
          await tx.run(unholdAll, [event.data.workerId]);
          await tx.run(resetHeld, [event.data.workerId]);
          tx.signalAfterCommit(DELIVERY_WORK_SIGNAL);
          break;
        }
        case 'WebhookRemoved':
          await lockWorker(tx, event.data.workerId);
          // Back in the queue with no origin: the delivery loop drops them like every orphan.
          await tx.run(releaseForDrop, [Date.parse(event.data.removedAt), null, event.data.workerId]);
          await tx.run(unholdAll, [event.data.workerId]);
          break;
      }
      const claim = claimOf(event);
      if (claim !== null && live) await tx.run(release, [(event.data as { deliveryId: string }).deliveryId, claim]);
    },
  };
}
