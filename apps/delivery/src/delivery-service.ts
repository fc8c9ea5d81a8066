import { performance } from 'node:perf_hooks';
import { STORAGE_OUTAGE_LOG_INTERVAL_MS, createIdGenerator, throttledLog, type IdGenerator, type Logger } from '@handinger-webhooks/contracts';
import type { Application } from '@handinger-webhooks/commands';
import { asStorageUnavailable, processOwnerId } from '@handinger-webhooks/event-store';
import { Claimer, type ClaimedAttempt } from './claimer.js';
import { NotificationCache } from './notifications.js';
import { ConcurrencyLimits } from './concurrency.js';
import { resolveOptions, type DeliveryOptions, type ResolvedDeliveryOptions } from './options.js';
import { Scheduler } from './scheduler.js';
import type { AttemptOutcome } from './outcome.js';
import { Sender } from './sender.js';
import { signWebhook } from './signature.js';
import type { Resolver } from './ssrf-guard.js';

/** How often lapsed delivery leases of killed processes are deleted (on a poll, so never more often than that). */
const LEASE_PURGE_INTERVAL_MS = 5 * 60_000;
const HTTP_GONE = 410;

/** Notifications (body and title, a few hundred bytes each) kept for pending deliveries. */
const NOTIFICATIONS_KEPT = 10_000;

/** Counters for tests, health checks and the benchmark. */
export interface DeliveryStats {
  /** Attempts on the wire now. */
  inFlight: number;
  /** Attempts started by this instance. */
  attempted: number;
  /** Attempt outcomes this instance committed (a duplicate of an already recorded attempt counts, and changes nothing). */
  recorded: number;
  /** Pending deliveries this instance dropped (webhook gone or replaced). */
  dropped: number;
  /** The most rows one claim took: never above the global cap, whatever the backlog. */
  largestClaim: number;
}

/** A running delivery app. */
export interface DeliveryService {
  /**
   * Stops claiming, waits (up to `shutdownTimeoutMs`) for attempts in flight
   * and records them, then closes connections. Attempts still running after
   * that are abandoned unrecorded: their leases lapse and a later run re-sends
   * them with the same `webhook-id`. Idempotent.
   */
  stop(): Promise<void>;
  /** Attempts on the wire now. */
  inFlight(): number;
  stats(): DeliveryStats;
  /** Looks for work now rather than at the next poll (e.g. after another process wrote). */
  wake(): void;
}

/** Test seam: not part of the documented options. */
export interface DeliveryInternals {
  resolve?: Resolver;
}

/**
 * Runs deliveries (SPEC §5) against an open application: the scheduler turns
 * completions into deliveries, the claimer takes due attempts under leases
 * within the concurrency caps, the sender POSTs them, and each outcome is
 * recorded (group-committed, releasing its lease and claiming the work for
 * the freed slots in the same transaction). Woken by commits in this
 * process, at the next due time or lease expiry, and at least every
 * `pollIntervalMs` for other processes' work. `internals` is a test seam.
 */
export function startDelivery(app: Application, options: DeliveryOptions, internals: DeliveryInternals = {}): DeliveryService {
  return new DeliveryLoop(app, resolveOptions(options), internals);
}

class DeliveryLoop implements DeliveryService {
  private readonly logger: Logger;
  private readonly limits: ConcurrencyLimits;
  private readonly sender: Sender;
  private readonly scheduler: Scheduler;
  private readonly claimer: Claimer;
  /** Bodies of pending deliveries, handed from the scheduler to the claims (a few MB at most). */
  private readonly notifications = new NotificationCache(NOTIFICATIONS_KEPT);
  private readonly ids: IdGenerator = createIdGenerator();
  private readonly userAgent: string;
  private readonly unsubscribe: () => void;
  private readonly counters = { attempted: 0, recorded: 0, dropped: 0, largestClaim: 0 };
  private readonly storageOutage = throttledLog(STORAGE_OUTAGE_LOG_INTERVAL_MS);
  /** Attempts started and not yet done with (sent and recorded, or given up). */
  private active = 0;
  /** Recordings handed to the group commit and not yet settled. */
  private recording = 0;
  private readonly waiters: (() => void)[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** When `timer` fires (epoch ms). */
  private timerAt = Number.POSITIVE_INFINITY;
  private pumpScheduled = false;
  private lastLeasePurge = Number.NEGATIVE_INFINITY;
  private stopping = false;
  private abandoned = false;
  private stopped: Promise<void> | undefined;

  constructor(
    private readonly app: Application,
    private readonly options: ResolvedDeliveryOptions,
    internals: DeliveryInternals,
  ) {
    this.logger = options.logger;
    this.userAgent = `Handinger-Webhooks/${options.version}`;
    this.limits = new ConcurrencyLimits(options.globalConcurrency, options.perOriginConcurrency);
    this.sender = new Sender({
      timeoutMs: options.timeoutMs,
      perOriginConcurrency: options.perOriginConcurrency,
      allowPrivateNetwork: options.allowPrivateNetwork,
      ...(internals.resolve ? { resolve: internals.resolve } : {}),
    });
    this.scheduler = new Scheduler(app, this.notifications);
    const owner = processOwnerId();
    this.claimer = new Claimer(app, owner, options.timeoutMs + options.leaseMarginMs, options.perOriginConcurrency, this.notifications, (deliveryId, reason) => {
      this.counters.dropped++;
      this.logger.info({ deliveryId, reason }, 'delivery dropped');
    });
    // Any commit may hold completions or webhook changes: the scheduler's scan of the log tells the claimer what changed.
    this.unsubscribe = app.store.onCommit(() => this.requestPump());
    this.logger.info(
      {
        allowPrivateNetwork: options.allowPrivateNetwork,
        timeoutMs: options.timeoutMs,
        globalConcurrency: options.globalConcurrency,
        perOriginConcurrency: options.perOriginConcurrency,
        retryScheduleMs: options.retryScheduleMs,
      },
      'delivery started',
    );
    this.requestPump();
  }

  inFlight(): number {
    return this.limits.inFlight;
  }

  stats(): DeliveryStats {
    return { inFlight: this.limits.inFlight, ...this.counters };
  }

  wake(): void {
    this.claimer.invalidate();
    this.requestPump();
  }

  /** A timer: something fell due, a lease lapsed, or it is time to look for other processes' work. */
  private readonly onTimer = (): void => {
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
    this.claimer.invalidate();
    this.purgeLapsedLeases();
    this.pump();
  };

  /** At most every few minutes, on a poll: the housekeeping of leases left by killed processes. */
  private purgeLapsedLeases(): void {
    const now = Date.now();
    if (now - this.lastLeasePurge < LEASE_PURGE_INTERVAL_MS) return;
    this.lastLeasePurge = now;
    try {
      const purged = this.claimer.purgeLapsedLeases(now);
      if (purged > 0) this.logger.info({ purged }, 'purged lapsed delivery leases');
    } catch (error) {
      this.logger.warn({ err: errorText(error) }, 'purging lapsed delivery leases failed; trying again later');
    }
  }

  /** Makes sure the loop wakes up by `at` (an earlier wake-up already set stands: it looks again then). */
  private wakeBy(at: number): void {
    if (this.timer !== undefined && this.timerAt <= at) return;
    clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(this.onTimer, Math.max(0, at - Date.now()));
  }

  private requestPump(): void {
    if (this.pumpScheduled || this.stopping) return;
    this.pumpScheduled = true;
    setImmediate(this.pump);
  }

  /** One turn: schedule new completions, claim what can start, sleep until the next reason to look. */
  private readonly pump = (): void => {
    this.pumpScheduled = false;
    if (this.stopping) return;
    let wakeAt = Date.now() + this.options.pollIntervalMs;
    try {
      const batch = this.scheduler.runBatch();
      if (batch.changed) this.claimer.invalidate();
      for (const origin of batch.origins) this.claimer.noteDue(origin);
      const now = Date.now();
      this.startAll(this.claimer.claim(this.limits, now));
      if (batch.more) this.requestPump();
      // With every slot busy, a finishing attempt is the next reason to look.
      if (this.limits.free() > 0) {
        const next = this.claimer.nextWakeAt(now, this.options.pollIntervalMs);
        if (next !== null && next < wakeAt) wakeAt = next;
      }
    } catch (error) {
      // SQLITE_BUSY beyond the busy timeout, a disk error…: the durable state is intact; try again at the next poll.
      this.claimer.invalidate();
      this.reportFailure(error, {}, 'delivery loop failed; retrying at the next poll');
    }
    this.wakeBy(wakeAt);
  };

  private startAll(claimed: ClaimedAttempt[]): void {
    if (claimed.length > this.counters.largestClaim) this.counters.largestClaim = claimed.length;
    for (const claim of claimed) this.start(claim);
  }

  /**
   * Runs inside the transaction recording an attempt: refills the slots
   * freed since the last claim in the same commit, saving a transaction per
   * attempt. Never throws (that would undo the recording): a failed claim is
   * rolled back to its savepoint and left to the next pump. No savepoint at
   * all when the claimer knows there is nothing to claim (the other
   * recordings of the same commit, once the first one refilled the slots).
   */
  private claimWhileRecording(): ClaimedAttempt[] {
    const now = Date.now();
    if (this.stopping || !this.claimer.mayClaim(this.limits, now)) return [];
    try {
      return this.app.store.transaction(() => this.claimer.claimWithin(this.limits, now));
    } catch (error) {
      this.reportFailure(error, {}, 'claiming while recording failed; the next pump retries');
      return [];
    }
  }

  /** One attempt: sign and send the body built at claim time; `finish` frees the slot and records the outcome. */
  private start(claim: ClaimedAttempt): void {
    this.counters.attempted++;
    this.active++;
    const startedAtMs = Date.now();
    const startedAt = performance.now();
    let sent: Promise<AttemptOutcome>;
    try {
      const timestamp = Math.floor(startedAtMs / 1000);
      sent = this.sender.send(
        claim.url,
        [
          'content-type', 'application/json',
          'user-agent', this.userAgent,
          'x-handinger-token', claim.token,
          'webhook-id', claim.deliveryId,
          'webhook-timestamp', String(timestamp),
          'webhook-signature', signWebhook(claim.signingSecret, claim.deliveryId, timestamp, claim.body),
        ],
        claim.body,
      );
    } catch (error) {
      // Not sent, not recorded: the lease lapses and the attempt is made again.
      this.limits.release(claim.origin, claim.workerId);
      this.logger.error({ deliveryId: claim.deliveryId, err: errorText(error) }, 'starting a delivery attempt failed');
      this.attemptDone();
      return;
    }
    void sent.then((outcome) => this.finish(claim, startedAtMs, startedAt, outcome));
  }

  /** The attempt is over: free its slot, record it (releasing its lease and refilling slots in the same commit). */
  private finish(claim: ClaimedAttempt, startedAtMs: number, startedAt: number, outcome: AttemptOutcome): void {
    // The slot is refilled by the claim inside the recording transaction below (or by the next pump).
    this.limits.release(claim.origin, claim.workerId);
    const durationMs = Math.round(performance.now() - startedAt);
    const succeeded = outcome.transportError === null && outcome.responseStatus !== null && outcome.responseStatus >= 200 && outcome.responseStatus < 300;
    // Successes at debug (one per delivery); failures at info, for operators. Origins only: URLs may hold secrets.
    this.logger[succeeded ? 'debug' : 'info'](
      {
        deliveryId: claim.deliveryId,
        workerId: claim.workerId,
        attempt: claim.attempt,
        origin: claim.origin,
        responseStatus: outcome.responseStatus,
        error: outcome.transportError,
        durationMs,
      },
      succeeded ? 'delivery attempt succeeded' : 'delivery attempt failed',
    );
    if (this.abandoned) return this.attemptDone();
    // The retry the decider will schedule, if any (a hint for the claimer: the log is the truth).
    const retryDelay = succeeded || outcome.responseStatus === HTTP_GONE ? undefined : this.options.retryScheduleMs[claim.attempt - 1];
    // A zero delay makes the retry due at once, in this very commit: the claim below may take it.
    if (retryDelay === 0) this.claimer.noteDue(claim.origin);
    let next: ClaimedAttempt[] = [];
    this.recording++;
    this.app.commands
      .recordDelivery(
        {
          deliveryId: claim.deliveryId,
          attempt: claim.attempt,
          executionId: this.ids.executionId(),
          startedAt: new Date(startedAtMs).toISOString(),
          durationMs,
          url: claim.url,
          responseStatus: outcome.responseStatus,
          transportError: outcome.transportError,
          taskId: claim.taskId,
          taskTitle: claim.taskTitle,
          retryScheduleMs: this.options.retryScheduleMs,
        },
        () => {
          this.claimer.release(claim.leaseName);
          next = this.claimWhileRecording();
        },
      )
      .then(
        () => {
          this.counters.recorded++;
          if (retryDelay === undefined) this.notifications.delete(claim.deliveryId);
          // Due no earlier than this: the decider took its "now" before the commit.
          else if (retryDelay > 0) this.claimer.noteRetry(claim.origin, Date.now() + retryDelay);
          if (!this.stopping) return this.startAll(next);
          // Claimed just before stop(): hand them back at once rather than start what stop() would not wait for.
          for (const claimed of next) {
            this.limits.release(claimed.origin, claimed.workerId);
            this.claimer.release(claimed.leaseName);
          }
        },
        (error: unknown) => {
          // Not recorded: the lease lapses and the attempt is made again (same webhook-id). The claim made in
          // the same transaction rolled back with it.
          for (const claimed of next) this.limits.release(claimed.origin, claimed.workerId);
          this.claimer.invalidate();
          this.reportFailure(error, { deliveryId: claim.deliveryId, attempt: claim.attempt }, 'recording a delivery attempt failed');
          this.requestPump();
        },
      )
      .finally(() => {
        this.recording--;
        this.attemptDone();
      });
  }

  /**
   * Logs a failure of the loop. While storage refuses writes (a full disk)
   * every poll and every recording fails the same way: those are logged
   * once a minute with a count, not each time.
   */
  private reportFailure(error: unknown, fields: object, message: string): void {
    const unavailable = asStorageUnavailable(error);
    if (unavailable === null) return this.logger.error({ ...fields, err: errorText(error) }, message);
    this.storageOutage((suppressed) => this.logger.error({ ...fields, reason: unavailable.message, failuresSinceLastLine: suppressed }, `${message} (storage unavailable)`));
  }

  private attemptDone(): void {
    this.active--;
    if (this.waiters.length > 0) for (const wake of this.waiters.splice(0)) wake();
  }

  /** Resolves once `done()` holds, checked whenever an attempt ends. */
  private until(done: () => boolean): Promise<void> {
    return new Promise((resolve) => {
      const check = (): void => {
        if (done()) resolve();
        else this.waiters.push(check);
      };
      check();
    });
  }

  stop(): Promise<void> {
    this.stopped ??= this.shutdown();
    return this.stopped;
  }

  private async shutdown(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    this.unsubscribe();
    let deadline: NodeJS.Timeout | undefined;
    const settled = await Promise.race([
      this.until(() => this.active === 0).then(() => true),
      new Promise<boolean>((resolve) => (deadline = setTimeout(() => resolve(false), this.options.shutdownTimeoutMs))),
    ]);
    clearTimeout(deadline);
    if (settled) {
      await this.sender.close();
    } else {
      this.abandoned = true;
      this.logger.warn({ abandoned: this.active - this.recording }, 'stopped with attempts in flight; they will be retried when their leases lapse');
      await this.sender.destroy();
      // Recordings already handed to the group commit finish; no new one starts.
      await this.until(() => this.recording === 0);
    }
    this.logger.info({ ...this.counters }, 'delivery stopped');
  }
}

/** An error's code or message for logs (they never carry request bodies or secrets). */
function errorText(error: unknown): string {
  if (error instanceof Error) return 'code' in error ? `${String(error.code)}: ${error.message}` : error.message;
  return String(error);
}
