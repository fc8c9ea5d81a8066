import { performance } from 'node:perf_hooks';
import { STORAGE_OUTAGE_LOG_INTERVAL_MS, createIdGenerator, throttledLog, type Logger } from '@handinger-webhooks/contracts';
import type { Application } from '@handinger-webhooks/commands';
import { asStorageUnavailable, processOwnerId } from '@handinger-webhooks/event-store';
import { DELIVERY_WORK_SIGNAL, type Claim, type ClaimedAttempt } from '@handinger-webhooks/projections';
import { NotificationSource } from './notifications.js';
import { resolveOptions, type DeliveryOptions, type ResolvedDeliveryOptions } from './options.js';
import { prepareAttempt, type PreparedAttempt } from './prepare.js';
import { RecordStage, type RecordingResult } from './record.js';
import { Sender } from './sender.js';
import type { Resolver } from './ssrf-guard.js';

/** Counters for tests, health checks and the benchmark. */
export interface DeliveryStats {
  /** Attempts claimed by this process and not yet recorded (or given back). */
  inFlight: number;
  /** Attempts this process sent. */
  attempted: number;
  /** Attempts this process recorded (a duplicate of an already recorded send counts, and changes nothing). */
  recorded: number;
  /** Pending deliveries this process dropped (webhook gone or replaced). */
  dropped: number;
  /** The most attempts one claim took: never above the global cap, whatever the backlog. */
  largestClaim: number;
}

/** A running delivery app. */
export interface DeliveryService {
  /**
   * Stops claiming, waits (up to `shutdownTimeoutMs`) for attempts in flight
   * and records them, then closes connections. Attempts still running after
   * that are abandoned unrecorded: their claims lapse and a later run
   * re-sends them with the same `webhook-id`. Idempotent.
   */
  stop(): Promise<void>;
  /** Attempts claimed and not yet recorded. */
  inFlight(): number;
  stats(): DeliveryStats;
  /** Looks for work now rather than at the next poll (e.g. after another process wrote). */
  wake(): void;
  /** Whether the loop is running (for readiness). */
  running(): boolean;
}

/** Test seam: not part of the documented options. */
export interface DeliveryInternals {
  resolve?: Resolver;
}

/**
 * Runs deliveries (SPEC §5) against an open application, as a pipeline:
 * **claim** due attempts within the caps (held for every process sharing
 * the database) → **prepare** each (body, headers, signature) → **send**
 * (undici, SSRF-guarded) → **record** (in batches; the decider's decision
 * comes back with the commit). An attempt's slot is given back in one place,
 * `settle`, once it is recorded or given up. The loop looks for work when a
 * commit signals it (this process's, or another's through PostgreSQL's
 * NOTIFY), when slots free up, at the next due time, and at least every
 * `pollIntervalMs`.
 */
export function startDelivery(app: Application, options: DeliveryOptions, internals: DeliveryInternals = {}): DeliveryService {
  return new DeliveryLoop(app, resolveOptions(options), internals);
}

class DeliveryLoop implements DeliveryService {
  private readonly logger: Logger;
  private readonly owner = processOwnerId();
  private readonly userAgent: string;
  private readonly sender: Sender;
  private readonly notifications: NotificationSource;
  private readonly recorder: RecordStage;
  private readonly counters = { attempted: 0, recorded: 0, dropped: 0, largestClaim: 0 };
  private readonly storageOutage = throttledLog(STORAGE_OUTAGE_LOG_INTERVAL_MS);
  private readonly unsubscribe: () => void;
  /** Attempts claimed and not yet settled. */
  private claimed = 0;
  /** Sends on the wire (a subset of `claimed`). */
  private sending = 0;
  private claiming = false;
  private claimAgain = false;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Number.POSITIVE_INFINITY;
  private stopping = false;
  /** stop() ran out of patience: sends cut short are not recorded (their claims lapse; see `stop`). */
  private abandoned = false;
  private stopped: Promise<void> | undefined;
  private readonly waiters: (() => void)[] = [];

  constructor(
    private readonly app: Application,
    private readonly options: ResolvedDeliveryOptions,
    internals: DeliveryInternals,
  ) {
    this.logger = options.logger;
    this.userAgent = `Handinger-Webhooks/${options.version}`;
    this.sender = new Sender({
      timeoutMs: options.timeoutMs,
      perOriginConcurrency: options.perOriginConcurrency,
      allowPrivateNetwork: options.allowPrivateNetwork,
      ...(internals.resolve ? { resolve: internals.resolve } : {}),
    });
    this.notifications = new NotificationSource(app.log);
    this.recorder = new RecordStage(app.commands, createIdGenerator(), options.retryScheduleMs, (results) => this.recorded(results));
    this.unsubscribe = app.database.onSignal(DELIVERY_WORK_SIGNAL, () => this.wake());
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
    this.wake();
  }

  inFlight(): number {
    return this.claimed;
  }

  stats(): DeliveryStats {
    return { inFlight: this.claimed, ...this.counters };
  }

  running(): boolean {
    return !this.stopping;
  }

  /** Claims as soon as possible (one claim at a time; a request during one makes it go again). */
  wake(): void {
    if (this.stopping) return;
    if (this.claiming) {
      this.claimAgain = true;
      return;
    }
    this.claiming = true;
    setImmediate(() => void this.claimLoop());
  }

  private async claimLoop(): Promise<void> {
    let wakeAt = Date.now() + this.options.pollIntervalMs;
    try {
      do {
        this.claimAgain = false;
        const free = this.options.globalConcurrency - this.claimed;
        if (free <= 0 || this.stopping) break;
        const claim = await this.claim(free);
        if (claim.attempts.length === 0 && claim.orphans.length === 0) {
          // Nothing claimable now: sleep until the next due time or lapsing claim (a slot freeing here wakes us sooner);
          // counted from when the claim looked, so what fell due since wakes us at once rather than at the next poll.
          const next = claim.saturated ? null : await this.app.claims.nextWakeAt(this.app.database.sql, this.owner, claim.now);
          if (next !== null) wakeAt = Math.min(wakeAt, Date.now() + Math.max(0, next - (await this.app.claims.now(this.app.database.sql))));
          break;
        }
        this.startAll(claim);
        // A full claim: more is probably due.
        if (claim.attempts.length + claim.orphans.length >= Math.min(free, this.options.claimBatch)) this.claimAgain = true;
      } while (this.claimAgain && !this.stopping);
    } catch (error) {
      this.reportFailure(error, {}, 'claiming due attempts failed; retrying at the next poll');
    } finally {
      this.claiming = false;
      // stop() may be waiting for this claim to end.
      this.notifyWaiters();
    }
    if (this.claimAgain) this.wake();
    else this.wakeBy(wakeAt);
  }

  /** The claim stage: due attempts within the caps, in one write transaction; orphans are dropped at once. */
  private async claim(free: number): Promise<Claim> {
    const claim = await this.app.database.transaction((tx) =>
      this.app.claims.claim(tx, {
        owner: this.owner,
        ttlMs: this.options.timeoutMs + this.options.leaseMarginMs,
        globalCap: this.options.globalConcurrency,
        perOriginCap: this.options.perOriginConcurrency,
        limit: Math.min(free, this.options.claimBatch),
      }),
    );
    if (claim.attempts.length > this.counters.largestClaim) this.counters.largestClaim = claim.attempts.length;
    if (claim.orphans.length > 0) {
      const dropped = await this.app.commands.dropDeliveries(claim.orphans);
      this.counters.dropped += dropped;
      for (const orphan of claim.orphans) this.logger.info({ deliveryId: orphan.deliveryId, reason: orphan.reason }, 'delivery dropped');
    }
    return claim;
  }

  /** Prepares and sends every claimed attempt; each is settled exactly once, whatever happens. */
  private startAll(claim: Claim): void {
    this.claimed += claim.attempts.length;
    void this.notifications.forClaims(claim.attempts).then(
      (notifications) => {
        const now = Date.now();
        for (const attempt of claim.attempts) {
          const notification = notifications.get(attempt.deliveryId);
          if (notification === undefined) {
            // The log has no completion for it: nothing can ever be sent. Give the claim back and say so (it will be retried by hand).
            this.logger.error({ deliveryId: attempt.deliveryId, taskId: attempt.taskId }, 'delivery has no task completion in the log; not sent');
            this.giveBack([attempt]);
            continue;
          }
          let prepared: PreparedAttempt;
          try {
            prepared = prepareAttempt(attempt, notification, this.app.secretBox, this.userAgent, now);
          } catch (error) {
            this.reportFailure(error, { deliveryId: attempt.deliveryId }, 'preparing a delivery attempt failed');
            this.giveBack([attempt]);
            continue;
          }
          this.send(prepared);
        }
      },
      (error: unknown) => {
        this.reportFailure(error, {}, 'reading the notifications of claimed attempts failed');
        this.giveBack(claim.attempts);
      },
    );
  }

  /** The send stage, then hand over to the record stage. */
  private send(prepared: PreparedAttempt): void {
    this.counters.attempted++;
    this.sending++;
    const started = performance.now();
    void this.sender.send(prepared.url, prepared.headers, prepared.body).then((outcome) => {
      this.sending--;
      // Cut short by an impatient stop(): not an outcome of the receiver's, so not recorded; the claim lapses.
      if (this.abandoned) return this.settle(1);
      const durationMs = Math.round(performance.now() - started);
      const succeeded = outcome.transportError === null && outcome.responseStatus !== null && outcome.responseStatus >= 200 && outcome.responseStatus < 300;
      // Successes at debug (one per delivery); failures at info, for operators. Origins only: URLs may hold secrets.
      this.logger[succeeded ? 'debug' : 'info'](
        {
          deliveryId: prepared.claim.deliveryId,
          workerId: prepared.claim.workerId,
          attempt: prepared.claim.attempt,
          origin: prepared.claim.origin,
          responseStatus: outcome.responseStatus,
          error: outcome.transportError,
          durationMs,
        },
        succeeded ? 'delivery attempt succeeded' : 'delivery attempt failed',
      );
      this.recorder.add({ prepared, outcome, durationMs });
    });
  }

  /** The record stage reported a batch: settle each attempt. */
  private recorded(results: RecordingResult[]): void {
    for (const result of results) {
      if (!result.ok) {
        // Not recorded: its claim lapses and the attempt is made again, with the same webhook-id.
        this.reportFailure(result.error, { deliveryId: result.sent.prepared.claim.deliveryId }, 'recording a delivery attempt failed');
      } else {
        this.counters.recorded++;
        if (!result.decision.recorded && result.decision.reason === 'rejected') {
          this.logger.error({ deliveryId: result.sent.prepared.claim.deliveryId, error: result.decision.error.message }, 'recording a delivery attempt was rejected');
        }
      }
      this.settle(1);
    }
  }

  /** Claims never sent: given back so they are claimable at once (else they lapse). */
  private giveBack(attempts: readonly ClaimedAttempt[]): void {
    void this.app.database
      .transaction((tx) => this.app.claims.release(tx, attempts.map((a) => a.claimToken)))
      .catch((error: unknown) => this.reportFailure(error, {}, 'giving back unsent claims failed; they lapse instead'))
      .finally(() => this.settle(attempts.length));
  }

  /** The one place a claimed attempt's slot is given back in this process. */
  private settle(count: number): void {
    this.claimed -= count;
    this.notifyWaiters();
    this.wake();
  }

  private notifyWaiters(): void {
    if (this.waiters.length > 0) for (const wake of this.waiters.splice(0)) wake();
  }

  /** Makes sure the loop looks again by `at` (an earlier wake-up already set stands). */
  private wakeBy(at: number): void {
    if (this.stopping) return;
    if (this.timer !== undefined && this.timerAt <= at) return;
    clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Number.POSITIVE_INFINITY;
      this.wake();
    }, Math.max(0, at - Date.now()));
  }

  /**
   * Logs a failure of the loop. While storage refuses writes (a full disk,
   * a database gone) every claim and recording fails the same way: those
   * are logged once a minute with a count, not each time.
   */
  private reportFailure(error: unknown, fields: object, message: string): void {
    const unavailable = asStorageUnavailable(error);
    if (unavailable === null) return this.logger.error({ ...fields, err: errorText(error) }, message);
    this.storageOutage((suppressed) => this.logger.error({ ...fields, reason: unavailable.message, failuresSinceLastLine: suppressed }, `${message} (storage unavailable)`));
  }

  /** Resolves once `done()` holds, checked whenever an attempt is settled or a claim ends. */
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
      this.until(() => this.claimed === 0 && !this.claiming).then(() => true),
      new Promise<boolean>((resolve) => (deadline = setTimeout(() => resolve(false), this.options.shutdownTimeoutMs))),
    ]);
    clearTimeout(deadline);
    if (settled) {
      await this.sender.close();
    } else {
      this.logger.warn({ abandoned: this.sending }, 'stopped with attempts in flight; they will be sent again when their claims lapse');
      this.abandoned = true;
      await this.sender.destroy();
      // Sends cut short are settled unrecorded; recordings already in the record stage (and a claim under way) finish.
      await this.until(() => this.claimed === 0 && !this.claiming);
    }
    this.logger.info({ ...this.counters }, 'delivery stopped');
  }
}

/** An error's code or message for logs (they never carry request bodies or secrets). */
function errorText(error: unknown): string {
  if (error instanceof Error) return 'code' in error ? `${String(error.code)}: ${error.message}` : error.message;
  return String(error);
}
