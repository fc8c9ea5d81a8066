import { streams, type TaskCompleted } from '@handinger-webhooks/contracts';
import { handle, type Application } from '@handinger-webhooks/commands';
import { deliveryDecider } from '@handinger-webhooks/domain';
import { Leases } from '@handinger-webhooks/event-store';
import { LIVE_TABLES } from '@handinger-webhooks/projections';
import type { Statement } from 'better-sqlite3';
import type { ConcurrencyLimits } from './concurrency.js';

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
  task: TaskCompleted['data'];
  leaseName: string;
}

interface DueRow {
  delivery_id: string;
  worker_id: string;
  task_id: string;
  attempt: number;
  webhook_generation: number;
  url: string | null;
  origin: string | null;
  token: string | null;
  signing_secret: string | null;
  generation: number | null;
  task_data: string | null;
}

type DueParams = { now: number; leasePrefix: string; taskPrefix: string; saturated: string; limit: number };

const q = LIVE_TABLES.deliveryQueue;
const w = LIVE_TABLES.webhooks;

/**
 * Due attempts, oldest first, that nobody holds a live lease on and whose
 * origin has a free slot, with everything the attempt needs: the webhook as
 * it is now and the task's completion event (for the body). A range read of
 * the queue's (due_at, delivery_id) key; the lease test depends on the queue
 * row alone, so SQLite applies it before any join and attempts in flight
 * cost one index probe each. Compiled once; LIMIT keeps memory flat for any
 * backlog.
 */
const DUE_SQL = `
  SELECT q.delivery_id, q.worker_id, q.task_id, q.attempt, q.webhook_generation,
         w.url, w.origin, w.token, w.signing_secret, w.generation, e.data AS task_data
  FROM ${q} q
  LEFT JOIN ${w} w ON w.worker_id = q.worker_id
  LEFT JOIN events e ON e.stream_id = @taskPrefix || q.task_id AND e.stream_position = 1 AND e.type = 'TaskCompleted'
  WHERE q.due_at <= @now
    AND NOT EXISTS (SELECT 1 FROM leases l WHERE l.name = @leasePrefix || q.delivery_id AND l.expires_at > @now)
    AND (w.origin IS NULL OR w.origin NOT IN (SELECT value FROM json_each(@saturated)))
  ORDER BY q.due_at
  LIMIT @limit`;

/**
 * Claims due attempts from the durable schedule (the `delivery_queue` read
 * model) under time-limited leases, inside a `BEGIN IMMEDIATE` transaction,
 * so two processes never claim the same attempt and a crashed process's
 * claims lapse to another. Pending attempts whose webhook is gone or was
 * replaced (another generation) are dropped instead, in the same
 * transaction: the projection keeps their rows, so every delivery stream
 * ends in an event.
 */
export class Claimer {
  private readonly due: Statement<[DueParams], DueRow>;
  private readonly nextDue: Statement<[number], { at: number | null }>;
  private readonly nextLeaseExpiry: Statement<[string, string, string, number], { at: number | null }>;
  private readonly leases: Leases;
  private readonly taskPrefix = streams.task('');
  /** The last query filled its LIMIT: more is probably due, so skip the probe read. */
  private backlog = true;
  /**
   * A query found every due attempt outside these saturated origins, at
   * `at`: until one of them frees a slot, a row falls due, or `invalidate()`
   * says new work may exist, another query would find nothing either. Spares
   * rescanning a backlog that belongs to busy origins after every commit.
   */
  private exhausted: { saturated: string[]; at: number } | null = null;

  /**
   * @param owner this process's lease owner id
   * @param leaseTtlMs how long a claim holds before another process may take the attempt
   * @param batchSize rows per query: the per-origin cap, so one busy origin's rows never fill a batch others could use
   */
  constructor(
    private readonly app: Application,
    private readonly owner: string,
    private readonly leaseTtlMs: number,
    private readonly batchSize: number,
    private readonly onDropped: (deliveryId: string, reason: string) => void,
  ) {
    const db = app.db;
    this.due = db.prepare(DUE_SQL);
    this.nextDue = db.prepare(`SELECT MIN(due_at) AS at FROM ${q} WHERE due_at > ?`);
    // Other owners' live leases: when they lapse, their attempts become claimable here.
    this.nextLeaseExpiry = db.prepare(
      `SELECT MIN(expires_at) AS at FROM leases WHERE name >= ? AND name < ? AND owner <> ? AND expires_at > ?`,
    );
    this.leases = new Leases(db);
  }

  private params(now: number, saturated: string[], limit: number): DueParams {
    return { now, leasePrefix: LEASE_PREFIX, taskPrefix: this.taskPrefix, saturated: JSON.stringify(saturated), limit };
  }

  /** New work may exist that the last exhaustive query could not see (new deliveries, another process, a wake-up). */
  invalidate(): void {
    this.exhausted = null;
  }

  /** Whether the last exhaustive query still proves there is nothing to claim (see `exhausted`). */
  private knownExhausted(limits: ConcurrencyLimits, now: number): boolean {
    const exhausted = this.exhausted;
    if (exhausted === null) return false;
    if (!exhausted.saturated.every((origin) => limits.isSaturated(origin))) return false;
    const nextDue = this.nextDue.get(exhausted.at)?.at ?? null;
    if (nextDue !== null && nextDue <= now) {
      this.exhausted = null;
      return false;
    }
    return true;
  }

  /**
   * Claims as many due attempts as there are free slots, in a transaction
   * of its own. A first read outside any transaction keeps an idle poll from
   * taking SQLite's write lock (skipped while a backlog is known).
   */
  claim(limits: ConcurrencyLimits, now: number): ClaimedAttempt[] {
    if (limits.free() === 0 || this.knownExhausted(limits, now)) return [];
    if (!this.backlog) {
      const saturated = limits.saturatedOrigins();
      if (this.due.get(this.params(now, saturated, 1)) === undefined) {
        this.exhausted = { saturated, at: now };
        return [];
      }
    }
    return this.app.store.transaction(() => this.claimWithin(limits, now));
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
    try {
      for (;;) {
        const limit = Math.min(limits.free(), this.batchSize);
        if (limit === 0 || this.knownExhausted(limits, now)) break;
        const rows = this.due.all(this.params(now, limits.saturatedOrigins(), limit));
        this.backlog = rows.length === limit;
        let progress = 0;
        for (const row of rows) {
          progress++;
          if (this.dropIfOrphaned(row)) continue;
          // A row whose origin filled up within this batch waits: its origin is saturated from the next query on.
          if (!limits.tryAcquire(row.origin!)) continue;
          const leaseName = LEASE_PREFIX + row.delivery_id;
          if (!this.leases.tryAcquire(leaseName, this.owner, this.leaseTtlMs, now)) {
            // Cannot happen inside the write transaction (the query skipped live leases); never loop on it.
            limits.release(row.origin!);
            progress--;
            continue;
          }
          claimed.push(toClaim(row, leaseName));
        }
        if (rows.length < limit) {
          // Every due row outside the saturated origins was in this batch, and is now claimed, dropped or
          // waiting on an origin that is saturated now.
          this.exhausted = { saturated: limits.saturatedOrigins(), at: now };
          break;
        }
        if (progress === 0) break;
      }
    } catch (error) {
      // The transaction rolls back: what this claim concluded (leases, drops, exhaustion) is void.
      for (const attempt of claimed) limits.release(attempt.origin);
      this.exhausted = null;
      throw error;
    }
    return claimed;
  }

  /** Ends a pending delivery that can no longer be attempted; true when it did. */
  private dropIfOrphaned(row: DueRow): boolean {
    let reason: string | null = null;
    if (row.url === null) reason = 'webhook removed';
    else if (row.generation !== row.webhook_generation) reason = 'webhook replaced';
    else if (row.task_data === null) reason = 'task completion not found';
    if (reason === null) return false;
    handle(this.app.store, deliveryDecider, streams.delivery(row.delivery_id), {
      type: 'DropDelivery',
      deliveryId: row.delivery_id,
      now: new Date().toISOString(),
    });
    this.onDropped(row.delivery_id, reason);
    return true;
  }

  /** Gives up this process's claim on an attempt (call inside the transaction that records it). */
  release(leaseName: string): void {
    this.leases.release(leaseName, this.owner);
  }

  /** When work may next become claimable without any event: the next due time or another owner's lease expiry. */
  nextWakeAt(now: number): number | null {
    const due = this.nextDue.get(now)?.at ?? null;
    const lease = this.nextLeaseExpiry.get(LEASE_PREFIX, LEASE_PREFIX.slice(0, -1) + ';', this.owner, now)?.at ?? null;
    if (due === null) return lease;
    if (lease === null) return due;
    return Math.min(due, lease);
  }
}

function toClaim(row: DueRow, leaseName: string): ClaimedAttempt {
  return {
    deliveryId: row.delivery_id,
    workerId: row.worker_id,
    taskId: row.task_id,
    attempt: row.attempt,
    url: row.url!,
    origin: row.origin!,
    token: row.token!,
    signingSecret: row.signing_secret!,
    task: JSON.parse(row.task_data!) as TaskCompleted['data'],
    leaseName,
  };
}
