import { streams, type TaskCompleted } from '@handinger-webhooks/contracts';
import type { Application } from '@handinger-webhooks/commands';
import { openWebhookSecrets } from '@handinger-webhooks/secrets';
import { Leases } from '@handinger-webhooks/event-store';
import { LIVE_TABLES } from '@handinger-webhooks/projections';
import type { Statement } from 'better-sqlite3';
import type { ConcurrencyLimits } from './concurrency.js';
import { notificationOf, type Notification, type NotificationCache } from './notifications.js';

/** Lease names are `delivery:<deliveryId>`: one live claim per pending attempt, whichever process holds it. */
export const LEASE_PREFIX = 'delivery:';

/** One attempt this process now owns, with the webhook exactly as it is when the attempt starts. */
export interface ClaimedAttempt {
  deliveryId: string;
  workerId: string;
  taskId: string;
  attempt: number;
  url: string;
  origin: string;
  token: string;
  signingSecret: string;
  taskTitle: string | null;
  /** The notification's bytes (SPEC §5): a pure function of the completion, so the same for every attempt. */
  body: Buffer;
  leaseName: string;
}

/** A due row, as an array (`raw` mode: no object per row), in the column order of `dueSql`. */
type DueRow = [
  deliveryId: string,
  workerId: string,
  taskId: string,
  attempt: number,
  webhookGeneration: number,
  /** The worker's webhook origin now, `null` when it has none. */
  origin: string | null,
  generation: number | null,
];
const DELIVERY_ID = 0;
const WORKER_ID = 1;
const TASK_ID = 2;
const ATTEMPT = 3;
const WEBHOOK_GENERATION = 4;
const ORIGIN = 5;
const GENERATION = 6;

type WebhookNow = { url: string; token: string; signing_secret: string };

const q = LIVE_TABLES.deliveryQueue;
const w = LIVE_TABLES.webhooks;

/**
 * Due attempts, oldest first, that nobody holds a live lease on, with what
 * decides whether they can start: their webhook's origin and generation now.
 * A range read of the queue's (due_at, delivery_id) key. The terms on the
 * queue row alone come first and SQLite applies them before any join: rows
 * of workers known to sit on a full origin (`skipWorkers`) cost a
 * comparison, attempts in flight one index probe. The webhook's URL and
 * secrets are read once per worker per claim, and the completion (for the
 * body) only when the body is not at hand already, not per row. Compiled
 * once per shape (the common shapes without any JSON list); LIMIT keeps
 * memory flat for any backlog.
 */
const dueSql = (skip: boolean, origins: 'none' | 'one' | 'list', exclude: boolean): string => `
  SELECT q.delivery_id, q.worker_id, q.task_id, q.attempt, q.webhook_generation, w.origin, w.generation
  FROM ${q} q
  LEFT JOIN ${w} w ON w.worker_id = q.worker_id
  WHERE q.due_at <= @now
    ${skip ? 'AND q.worker_id NOT IN (SELECT value FROM json_each(@skipWorkers))' : ''}
    AND NOT EXISTS (SELECT 1 FROM leases l WHERE l.name = @leasePrefix || q.delivery_id AND l.expires_at > @now)
    ${
      exclude
        ? origins === 'none'
          ? ''
          : `AND (w.origin IS NULL OR w.origin ${origins === 'one' ? '<> @origins' : 'NOT IN (SELECT value FROM json_each(@origins))'})`
        : `AND w.origin ${origins === 'one' ? '= @origins' : 'IN (SELECT value FROM json_each(@origins))'}`
    }
  ORDER BY q.due_at
  LIMIT @limit`;

type DueParams = { now: number; leasePrefix: string; origins?: string; skipWorkers?: string; limit: number };


/** Retries remembered for `noteRetry` at most (the timer finds the others). */
const MAX_RETRIES_TRACKED = 10_000;

/**
 * Claims due attempts from the durable schedule (the `delivery_queue` read
 * model) under time-limited leases, inside a `BEGIN IMMEDIATE` transaction,
 * so two processes never claim the same attempt and a crashed process's
 * claims lapse to another. Pending attempts whose webhook is gone or was
 * replaced (another generation) are dropped instead, in the same
 * transaction: the projection keeps their rows, so every delivery stream
 * ends in an event.
 *
 * What it knows about the queue, so a busy origin's backlog is not read
 * again after every commit:
 * - after a *full* query that came back short, no claimable due row exists
 *   outside the origins that were saturated then (`pending`), until new
 *   work arrives;
 * - this process tells it about the new work it causes: deliveries its
 *   scheduler opened (`noteDue`), retries it recorded (`noteRetry`), and
 *   anything else that may have changed what is claimable (`invalidate`:
 *   webhook changes, a failed claim, a timer, another process);
 * - so most claims are a query restricted to the pending origins that have
 *   free slots, which starts at the head of the queue and stops at its LIMIT.
 */
export class Claimer {
  /** Statements by shape (see `dueSql`), prepared on first use. */
  private readonly statements = new Map<string, Statement<[DueParams], DueRow>>();
  private readonly nextDue: Statement<[number], { at: number | null }>;
  private readonly workersOn: Statement<[string, string], { worker_id: string }>;
  private readonly webhookNow: Statement<[string], WebhookNow>;
  private readonly leases: Leases;
  /** The last full query filled its LIMIT: more is probably due, so skip the probe read. */
  private backlog = true;
  /** Whether the next claim must look at every origin (see the class comment). */
  private fullScanNeeded = true;
  /** Origins that may hold claimable due rows the last full query did not take (they were saturated, or got new work since). */
  private readonly pending = new Set<string>();
  /** Retries this process recorded, by due time (from `retriesDue` on): their origin becomes pending then. */
  private retries: { at: number; origin: string }[] = [];
  private retriesDue = 0;
  /** Next due time or other owner's lease expiry in the database, and when it was read (`null`: read again). */
  private wake: { at: number | null; readAt: number } | null = null;

  /**
   * @param owner this process's lease owner id
   * @param leaseTtlMs how long a claim holds before another process may take the attempt
   * @param batchSize rows per full query: the per-origin cap, so one busy origin's rows never fill a batch others could use
   */
  constructor(
    private readonly app: Application,
    private readonly owner: string,
    private readonly leaseTtlMs: number,
    private readonly batchSize: number,
    private readonly notifications: NotificationCache,
    private readonly onDropped: (deliveryId: string, reason: string) => void,
  ) {
    const db = app.db;
    this.nextDue = db.prepare(`SELECT MIN(due_at) AS at FROM ${q} WHERE due_at > ?`);
    this.workersOn = db.prepare(
      `SELECT worker_id FROM ${w}
       WHERE worker_id IN (SELECT value FROM json_each(?)) AND origin IN (SELECT value FROM json_each(?))`,
    );
    this.webhookNow = db.prepare(`SELECT url, token, signing_secret FROM ${w} WHERE worker_id = ?`);
    this.leases = new Leases(db);
  }

  /** New work may exist anywhere (another process, a wake-up, a webhook change, a failed claim): the next claim looks at every origin. */
  invalidate(): void {
    this.fullScanNeeded = true;
    this.wake = null;
  }

  /** This process opened deliveries (or made a retry due at once) for `origin`. */
  noteDue(origin: string): void {
    this.pending.add(origin);
  }

  /**
   * This process recorded an attempt whose retry falls due at `at` (epoch
   * ms) or later. Only a shortcut (a claim inside a recording takes it
   * without waiting for the timer, which also wakes at the next due time);
   * past `MAX_RETRIES_TRACKED` the timer alone finds them.
   */
  noteRetry(origin: string, at: number): void {
    const retries = this.retries;
    if (retries.length - this.retriesDue < MAX_RETRIES_TRACKED) {
      // Usually the latest: one schedule of delays, recorded in order.
      let i = retries.length;
      while (i > this.retriesDue && retries[i - 1]!.at > at) i--;
      retries.splice(i, 0, { at, origin });
    }
    if (this.wake !== null && (this.wake.at === null || at < this.wake.at)) this.wake = { at, readAt: this.wake.readAt };
  }

  /** Moves retries that fell due into `pending`. */
  private catchUp(now: number): void {
    const retries = this.retries;
    let due = this.retriesDue;
    while (due < retries.length && retries[due]!.at <= now) this.pending.add(retries[due++]!.origin);
    if (due === this.retriesDue) return;
    if (due === retries.length) {
      this.retries = [];
      this.retriesDue = 0;
    } else if (due > 1_024 && due * 2 > retries.length) {
      this.retries = retries.slice(due);
      this.retriesDue = 0;
    } else {
      this.retriesDue = due;
    }
  }

  /** Whether a claim now could find anything (cheap: no query). */
  mayClaim(limits: ConcurrencyLimits, now: number): boolean {
    if (limits.free() === 0) return false;
    if (this.fullScanNeeded) return true;
    this.catchUp(now);
    for (const origin of this.pending) if (!limits.isSaturated(origin)) return true;
    return false;
  }

  /** The due query of this shape: `exclude` the `origins` (full query) or only them (restricted); skip `skipWorkers`' rows. */
  private due(now: number, exclude: boolean, origins: string[], skipWorkers: string[], limit: number): DueRow[] {
    const shape = origins.length === 0 ? 'none' : origins.length === 1 ? 'one' : 'list';
    const skip = skipWorkers.length > 0;
    const key = `${exclude ? 'x' : 'i'}${shape}${skip ? 's' : ''}`;
    let statement = this.statements.get(key);
    if (statement === undefined) {
      statement = this.app.db.prepare<[DueParams], DueRow>(dueSql(skip, shape, exclude)).raw(true);
      this.statements.set(key, statement);
    }
    const params: DueParams = { now, leasePrefix: LEASE_PREFIX, limit };
    if (shape !== 'none') params.origins = shape === 'one' ? origins[0]! : JSON.stringify(origins);
    if (skip) params.skipWorkers = JSON.stringify(skipWorkers);
    return statement.all(params);
  }

  /** Workers whose every pending row waits on a saturated origin: checked against the webhooks as they are now. */
  private skipWorkers(limits: ConcurrencyLimits, saturated: string[]): string[] {
    if (saturated.length === 0) return [];
    const hinted = limits.workersOnSaturatedOrigins();
    if (hinted.length === 0) return [];
    return this.workersOn.all(JSON.stringify(hinted), JSON.stringify(saturated)).map((row) => row.worker_id);
  }

  /**
   * Claims as many due attempts as there are free slots, in a transaction
   * of its own. A first read outside any transaction keeps an idle poll from
   * taking SQLite's write lock (skipped while a backlog is known).
   */
  claim(limits: ConcurrencyLimits, now: number): ClaimedAttempt[] {
    if (!this.mayClaim(limits, now)) return [];
    if (this.fullScanNeeded && !this.backlog) {
      const saturated = limits.saturatedOrigins();
      if (this.due(now, true, saturated, this.skipWorkers(limits, saturated), 1).length === 0) {
        this.exhausted(limits);
        return [];
      }
    }
    return this.app.store.transaction(() => this.claimWithin(limits, now));
  }

  /** A full query found everything claimable outside the origins saturated now. */
  private exhausted(limits: ConcurrencyLimits): void {
    this.fullScanNeeded = false;
    this.pending.clear();
    for (const origin of limits.saturatedOrigins()) this.pending.add(origin);
  }

  /**
   * The claim itself, inside the caller's write transaction (its own, or the
   * one recording an attempt: the slot that attempt freed is refilled in the
   * same commit). Takes a slot in `limits` and a lease for each row; on a
   * throw it gives the slots back (the transaction rolls the leases back).
   * A caller whose transaction rolls back later must give the slots back
   * and call `invalidate()`.
   */
  claimWithin(limits: ConcurrencyLimits, now: number): ClaimedAttempt[] {
    const claimed: ClaimedAttempt[] = [];
    const webhooks = new Map<string, WebhookNow | undefined>();
    try {
      this.catchUp(now);
      for (;;) {
        const free = limits.free();
        if (free === 0) break;
        if (this.fullScanNeeded) {
          const limit = Math.min(free, this.batchSize);
          const saturated = limits.saturatedOrigins();
          const rows = this.due(now, true, saturated, this.skipWorkers(limits, saturated), limit);
          this.backlog = rows.length === limit;
          const progress = this.take(rows, limits, now, claimed, webhooks);
          if (rows.length < limit) {
            // Every due row outside the saturated origins was in this batch, and is now claimed, dropped or
            // waiting on an origin that is saturated now.
            this.exhausted(limits);
            break;
          }
          if (progress === 0) break;
        } else {
          const origins: string[] = [];
          let limit = 0;
          for (const origin of this.pending) {
            const slots = limits.freeFor(origin);
            if (slots > 0) {
              origins.push(origin);
              limit += slots;
            }
          }
          if (origins.length === 0) break;
          limit = Math.min(free, limit);
          const rows = this.due(now, false, origins, limits.workersOnSaturatedOrigins(), limit);
          const progress = this.take(rows, limits, now, claimed, webhooks);
          if (rows.length < limit) {
            // These origins' due rows are all claimed, or wait on a slot (their origin is saturated again).
            for (const origin of origins) if (!limits.isSaturated(origin)) this.pending.delete(origin);
            break;
          }
          if (progress === 0) break;
        }
      }
    } catch (error) {
      // The transaction rolls back: what this claim concluded (leases, drops, exhaustion) is void.
      for (const attempt of claimed) limits.release(attempt.origin, attempt.workerId);
      this.invalidate();
      throw error;
    }
    return claimed;
  }

  /** Claims or drops each row while slots last; returns how many rows it got through. */
  private take(rows: DueRow[], limits: ConcurrencyLimits, now: number, claimed: ClaimedAttempt[], webhooks: Map<string, WebhookNow | undefined>): number {
    let progress = 0;
    for (const row of rows) {
      progress++;
      const deliveryId = row[DELIVERY_ID];
      if (row[ORIGIN] === null) {
        this.drop(deliveryId, 'webhook removed');
        continue;
      }
      if (row[GENERATION] !== row[WEBHOOK_GENERATION]) {
        this.drop(deliveryId, 'webhook replaced');
        continue;
      }
      const origin = row[ORIGIN];
      const workerId = row[WORKER_ID];
      // A row whose origin filled up within this batch waits: its origin is saturated from the next query on.
      if (!limits.tryAcquire(origin, workerId)) continue;
      const leaseName = LEASE_PREFIX + deliveryId;
      if (!this.leases.tryAcquire(leaseName, this.owner, this.leaseTtlMs, now)) {
        // Cannot happen inside the write transaction (the query skipped live leases); never loop on it.
        limits.release(origin, workerId);
        progress--;
        continue;
      }
      const notification = this.notificationOf(deliveryId, row[TASK_ID]);
      if (notification === undefined) {
        limits.release(origin, workerId);
        this.leases.release(leaseName, this.owner);
        this.drop(deliveryId, 'task completion not found');
        continue;
      }
      let webhook = webhooks.get(workerId);
      if (webhook === undefined) {
        // Same transaction as the row's origin and generation: the webhook as it is now.
        webhook = this.webhookNow.get(workerId)!;
        webhooks.set(workerId, webhook);
      }
      // Sealed at rest (SPEC §7); opened here, where the attempt is prepared (the box keeps opened values).
      const secrets = openWebhookSecrets(this.app.secretBox, workerId, { token: webhook.token, signingSecret: webhook.signing_secret });
      claimed.push({
        deliveryId,
        workerId,
        taskId: row[TASK_ID],
        attempt: row[ATTEMPT],
        url: webhook.url,
        origin,
        token: secrets.token,
        signingSecret: secrets.signingSecret,
        taskTitle: notification.taskTitle,
        body: notification.body,
        leaseName,
      });
    }
    return progress;
  }

  /** The delivery's notification: at hand, or built from its completion (`undefined` when the log has none). */
  private notificationOf(deliveryId: string, taskId: string): Notification | undefined {
    let notification = this.notifications.get(deliveryId);
    if (notification === undefined) {
      const [completed] = this.app.store.readStream<TaskCompleted>(streams.task(taskId));
      if (completed === undefined) return undefined;
      notification = notificationOf(completed.data);
      this.notifications.put(deliveryId, notification);
    }
    return notification;
  }

  /** Ends a pending delivery that can no longer be attempted. */
  private drop(deliveryId: string, reason: string): void {
    this.app.commands.dropDeliveryNow(deliveryId);
    this.notifications.delete(deliveryId);
    this.onDropped(deliveryId, reason);
  }

  /** Deletes delivery leases that lapsed over `graceMs` ago (left by killed processes). Returns how many went. */
  purgeLapsedLeases(now: number, graceMs = 60_000): number {
    return this.leases.purgeLapsed(LEASE_PREFIX, now - graceMs);
  }

  /** Gives up this process's claim on an attempt (call inside the transaction that records it). */
  release(leaseName: string): void {
    this.leases.release(leaseName, this.owner);
  }

  /**
   * When work may next become claimable without any event: the next due
   * time or another owner's lease expiry. Read from the database at most
   * every `maxAgeMs` (or after `invalidate()`); retries this process records
   * in between are folded in by `noteRetry`.
   */
  nextWakeAt(now: number, maxAgeMs: number): number | null {
    const cached = this.wake;
    if (cached !== null && now - cached.readAt < maxAgeMs && (cached.at === null || cached.at > now)) return cached.at;
    const due = this.nextDue.get(now)?.at ?? null;
    // Other owners' live leases: when they lapse, their attempts become claimable here.
    const lease = this.leases.nextExpiry(LEASE_PREFIX, this.owner, now);
    const at = due === null ? lease : lease === null ? due : Math.min(due, lease);
    this.wake = { at, readAt: now };
    return at;
  }
}
