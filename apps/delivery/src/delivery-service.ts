import { STORAGE_OUTAGE_LOG_INTERVAL_MS, createIdGenerator, throttledLog, type Logger } from '@handinger-webhooks/contracts';
import type { Application, AttemptOutcomeRecord, RecordedAttempt } from '@handinger-webhooks/commands';
import { asStorageUnavailable, processOwnerId } from '@handinger-webhooks/event-store';
import { DELIVERY_WORK_SIGNAL, type Claim, type ClaimedAttempt } from '@handinger-webhooks/projections';
import { NotificationSource, type Notification } from './notifications.js';
import { resolveOptions, type DeliveryOptions, type ResolvedDeliveryOptions } from './options.js';
import { prepareAttempt, type PreparedAttempt } from './prepare.js';
import { attemptResult } from './attempt-result.js';
import { RecoveryRunner } from './recovery-runner.js';
import { ClaimHints } from './claim-hints.js';
import { Slots } from './slots.js';
import type { Resolver } from './ssrf-guard.js';
import { ThreadTransport, senderThreadAvailable } from './thread-transport.js';
import { InThreadTransport, type Transport, type WireResult } from './transport.js';

/** Counters for tests, health checks and the benchmark. */
export interface DeliveryStats {
  /** Attempts claimed by this process and not yet recorded (or given back). */
  inFlight: number;
  /** Attempts on the wire now (a subset of `inFlight`). */
  onWire: number;
  /** Attempts claimed and waiting for a slot (a subset of `inFlight`). */
  queued: number;
  /** Attempts this process sent. */
  attempted: number;
  /** Attempts this process recorded (a duplicate of an already recorded send counts, and changes nothing). */
  recorded: number;
  /** Pending deliveries this process dropped (webhook gone or replaced). */
  dropped: number;
  /** The most attempts one claim took: never above the global cap, whatever the backlog. */
  largestClaim: number;
  /** Write transactions the pipeline ran (each records what ended and claims what can start). */
  cycles: number;
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
  /** Replaces the system resolver (tests of the SSRF guard); the sender then runs on this thread. */
  resolve?: Resolver;
  /** Awaited before a cycle that records ended sends (tests of a process that stalls before recording). */
  beforeRecording?: () => Promise<void>;
}

/** A claimed attempt from claim to record. */
interface InFlight {
  claim: ClaimedAttempt;
  origin: string;
  /** When it was claimed (this process's clock): it waits for a slot at most `QUEUE_WAIT_MS`. */
  claimedAtMs: number;
  notification: Notification | null;
}

/**
 * How long a claimed attempt may wait for a slot; it is then given back
 * (claimed again later). Claims last this much longer than the attempt's
 * timeout and recording margin, so a send that started in time ends, and
 * is recorded, before its claim lapses.
 */
const QUEUE_WAIT_MS = 1_000;

/** How often a process looks for recoveries left unfinished (by a process that died mid-way, say). */
const RECOVERY_POLL_MS = 5_000;

/** A send that ended, waiting to be recorded. */
interface Ended {
  entry: InFlight;
  prepared: PreparedAttempt;
  result: WireResult;
}

/**
 * Runs deliveries (SPEC §5) against an open application, as a pipeline:
 * **claim** due attempts within the caps (they hold for every process
 * sharing the database) → **prepare** each (body, headers, signature) →
 * **send** (undici through the SSRF guard, on a thread of its own by
 * default) → **record** (the decider's decision comes back).
 *
 * The loop runs in cycles, one write transaction each: record every send
 * that ended since the last cycle, then claim due attempts, in the same
 * commit. A slot is an attempt on the wire (`Slots`): taken when the send
 * starts, freed when the response (or the failure) comes back, so recording
 * never holds a slot. Claims run ahead of the slots (up to twice the caps):
 * claimed attempts wait for a slot, and one that frees is filled at once,
 * without waiting for a cycle. A cycle starts when sends end, when a commit
 * signals new work (this process's, or another's through PostgreSQL's
 * NOTIFY), at the next due time, and at least every `pollIntervalMs`.
 */
export function startDelivery(app: Application, options: DeliveryOptions, internals: DeliveryInternals = {}): DeliveryService {
  return new DeliveryLoop(app, resolveOptions(options), internals);
}

class DeliveryLoop implements DeliveryService {
  private readonly logger: Logger;
  private readonly owner = processOwnerId();
  private readonly userAgent: string;
  private readonly transport: Transport;
  private readonly notifications: NotificationSource;
  private readonly ids = createIdGenerator();
  private readonly slots: Slots<InFlight>;
  /** Claimed attempts whose notifications are being read (they hold a place in the claim's count). */
  private readonly admitting = new Map<string, number>();
  private readonly hints = new ClaimHints();
  private readonly counters = { attempted: 0, recorded: 0, dropped: 0, largestClaim: 0, cycles: 0 };
  private readonly storageOutage = throttledLog(STORAGE_OUTAGE_LOG_INTERVAL_MS);
  private readonly unsubscribe: () => void;
  private readonly recoveries: RecoveryRunner;
  /** Claimed and not yet recorded or given back. */
  private readonly inFlightAttempts = new Set<InFlight>();
  private ended: Ended[] = [];
  private cycling = false;
  private cycleAgain = false;
  /** Whether the next cycle claims (new work, a timer, an origin's line running low); otherwise it only records. */
  private claimWanted = true;
  private cycleScheduled = false;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Number.POSITIVE_INFINITY;
  private stopping = false;
  /** Set when a stop ran out of patience: sends cut short are not recorded (their claims lapse). */
  private abandoned = false;
  private stopped: Promise<void> | undefined;
  private readonly waiters: (() => void)[] = [];

  constructor(
    private readonly app: Application,
    private readonly options: ResolvedDeliveryOptions,
    private readonly internals: DeliveryInternals,
  ) {
    this.logger = options.logger;
    this.userAgent = `Handinger-Webhooks/${options.version}`;
    this.slots = new Slots(options.globalConcurrency, options.perOriginConcurrency);
    const senderOptions = { timeoutMs: options.timeoutMs, perOriginConcurrency: options.perOriginConcurrency, allowPrivateNetwork: options.allowPrivateNetwork };
    const threaded = options.senderThread && internals.resolve === undefined && senderThreadAvailable();
    this.transport = threaded ? new ThreadTransport(senderOptions) : new InThreadTransport({ ...senderOptions, ...(internals.resolve ? { resolve: internals.resolve } : {}) });
    this.notifications = new NotificationSource(app.log);
    this.unsubscribe = app.database.onSignal(DELIVERY_WORK_SIGNAL, () => {
      this.hints.workMayBeDue();
      this.wake();
    });
    this.recoveries = new RecoveryRunner(app, RECOVERY_POLL_MS, (error) => this.reportFailure(error, {}, 'a recovery batch failed; the next pass retries'));
    this.logger.info(
      {
        allowPrivateNetwork: options.allowPrivateNetwork,
        timeoutMs: options.timeoutMs,
        globalConcurrency: options.globalConcurrency,
        perOriginConcurrency: options.perOriginConcurrency,
        retryScheduleMs: options.retryScheduleMs,
        senderThread: threaded,
      },
      'delivery started',
    );
    this.wake();
  }

  inFlight(): number {
    return this.inFlightAttempts.size;
  }

  stats(): DeliveryStats {
    return { inFlight: this.inFlightAttempts.size, onWire: this.slots.onWire, queued: this.slots.queued, ...this.counters };
  }

  running(): boolean {
    return !this.stopping;
  }

  /** A cycle that claims, as soon as possible. */
  wake(): void {
    this.claimWanted = true;
    this.cycleSoon();
  }

  /** A cycle as soon as possible (one at a time; a request during one makes it go again). */
  private cycleSoon(): void {
    if (this.cycling) {
      this.cycleAgain = true;
      return;
    }
    if (this.cycleScheduled) return;
    this.cycleScheduled = true;
    setImmediate(() => {
      this.cycleScheduled = false;
      void this.cycle();
    });
  }

  /**
   * One cycle: record what ended, claim what may wait for a slot (not while
   * stopping), in one write transaction; then settle the recorded sends and
   * queue the claimed ones. Failures leave the durable state as it was:
   * unrecorded sends are sent again once their claims lapse.
   */
  private async cycle(): Promise<void> {
    this.cycling = true;
    this.cycleAgain = false;
    const toRecord = this.byWorker(this.ended);
    this.ended = [];
    this.giveBackExpired();
    const want = this.stopping || !this.claimWanted ? 0 : this.options.claimBatch;
    this.claimWanted = false;
    let claim: Claim | null = null;
    let decisions: RecordedAttempt[] = [];
    let dropped = 0;
    try {
      if (toRecord.length > 0 && this.internals.beforeRecording) await this.internals.beforeRecording();
      if (toRecord.length > 0 || want > 0) {
        this.counters.cycles++;
        // Counted only after the commit: the work may run more than once (Database.transaction).
        ({ decisions, claim, dropped } = await this.app.database.transaction(async (tx) => {
        const recorded = await this.app.commands.recordAttemptsIn(tx, toRecord.map((e) => this.recordOf(e)), { disableAfterMs: this.options.disableAfterMs });
        const claimed =
          want > 0
            ? await this.app.claims.claim(tx, {
                owner: this.owner,
                ttlMs: this.claimTtlMs(),
                globalCap: this.options.globalConcurrency,
                perOriginCap: this.options.perOriginConcurrency,
                limit: want,
                heldHere: this.held(),
                claimAhead: true,
                skipOriginWalk: this.hints.skipOriginWalk,
              })
            : null;
          const droppedHere = claimed !== null && claimed.orphans.length > 0 ? await this.app.commands.dropDeliveriesIn(tx, claimed.orphans) : 0;
          return { decisions: recorded, claim: claimed, dropped: droppedHere };
        }));
        this.counters.dropped += dropped;
      }
    } catch (error) {
      this.reportFailure(error, { sends: toRecord.length }, 'a delivery cycle failed (recording ended sends, claiming due ones); the next one retries');
    }
    this.settle(toRecord, decisions);
    let wakeAt = Date.now() + this.options.pollIntervalMs;
    if (claim !== null) {
      this.slots.setLimits(claim.sendLimits);
      if (this.options.claimHints) this.hints.claimed(claim);
      for (const orphan of claim.orphans) this.logger.info({ deliveryId: orphan.deliveryId, reason: orphan.reason }, 'delivery dropped');
      if (claim.attempts.length > this.counters.largestClaim) this.counters.largestClaim = claim.attempts.length;
      this.admit(claim.attempts);
      // A full claim: more is probably due.
      if (claim.attempts.length + claim.orphans.length >= want) {
        this.claimWanted = true;
        this.cycleAgain = true;
      }
      // Otherwise the next due time or lapsing claim (known until new work is signalled): a slot freeing wakes the loop by itself, another origin's retry does not.
      else if (!this.cycleAgain && this.hints.needsNextWake) wakeAt = await this.nextWakeAt(claim, wakeAt);
    }
    this.pump();
    this.cycling = false;
    if (this.cycleAgain || this.ended.length > 0 || this.claimWanted) this.cycleSoon();
    this.wakeBy(wakeAt);
    if (this.waiters.length > 0) for (const wake of this.waiters.splice(0)) wake();
  }

  /** What this process holds against the caps, per origin: on the wire, waiting for a slot, or being admitted. */
  private held(): Map<string, number> {
    const held = this.slots.held();
    for (const [origin, n] of this.admitting) held.set(origin, (held.get(origin) ?? 0) + n);
    return held;
  }

  /** A claim lasts for the wait for a slot, the attempt, and its recording. */
  private claimTtlMs(): number {
    return QUEUE_WAIT_MS + this.options.timeoutMs + this.options.leaseMarginMs;
  }

  /** When to look again with nothing claimable now: the next due time or lapsing claim (a send ending wakes us sooner). */
  private async nextWakeAt(claim: Claim, poll: number): Promise<number> {
    try {
      const next = await this.app.claims.nextWakeAt(this.app.database.sql, this.owner, claim.now);
      if (this.options.claimHints) this.hints.nextWakeRead();
      return next === null ? poll : Math.min(poll, Date.now() + Math.max(0, next - claim.now));
    } catch (error) {
      this.reportFailure(error, {}, 'looking for the next due attempt failed');
      return poll;
    }
  }

  /** Recordings of sends of one worker follow each other, so concurrent batches take per-worker locks in one order. */
  private byWorker(ended: Ended[]): Ended[] {
    return [...ended].sort((a, b) => (a.prepared.claim.workerId < b.prepared.claim.workerId ? -1 : a.prepared.claim.workerId > b.prepared.claim.workerId ? 1 : 0));
  }

  private recordOf({ prepared, result }: Ended): AttemptOutcomeRecord {
    return {
      claim: prepared.claim,
      executionId: this.ids.executionId(),
      startedAt: new Date(prepared.startedAtMs).toISOString(),
      durationMs: result.durationMs,
      url: prepared.url,
      responseStatus: result.outcome.responseStatus,
      transportError: result.outcome.transportError,
      retryAfterMs: result.outcome.retryAfterMs ?? null,
      taskTitle: prepared.taskTitle,
      retryScheduleMs: this.options.retryScheduleMs,
      jitter: Math.random(),
      userAgent: this.userAgent,
    };
  }

  /** The recorded (or not recorded) sends leave the pipeline. */
  private settle(sends: Ended[], decisions: RecordedAttempt[]): void {
    sends.forEach((sent, i) => {
      this.slots.recorded(sent.entry.origin);
      const decision = decisions[i];
      if (decision !== undefined) {
        this.counters.recorded++;
        // A delivery that is over needs its notification no more (a retry keeps it, to send the same bytes without reading the log).
        if (decision.recorded && decision.nextAttemptAt === null) this.notifications.forget(sent.entry.claim);
        if (decision.recorded && decision.webhookDisabled) {
          this.logger.warn({ workerId: sent.entry.claim.workerId, disableAfterMs: this.options.disableAfterMs }, 'webhook disabled: every attempt failed for too long; its notifications are held until it is enabled');
        }
        if (!decision.recorded && decision.reason === 'rejected') {
          this.logger.error({ deliveryId: sent.prepared.claim.deliveryId, error: decision.error.message }, 'recording a delivery attempt was rejected');
        }
      }
      this.inFlightAttempts.delete(sent.entry);
    });
  }

  /** Claimed attempts get their notifications and wait for a slot; one whose completion cannot be read is given back. */
  private admit(claims: readonly ClaimedAttempt[]): void {
    if (claims.length === 0) return;
    const now = Date.now();
    const entries = claims.map((claim): InFlight => ({ claim, origin: claim.origin, claimedAtMs: now, notification: null }));
    for (const entry of entries) {
      this.inFlightAttempts.add(entry);
      this.admitting.set(entry.origin, (this.admitting.get(entry.origin) ?? 0) + 1);
    }
    const admitted = (entry: InFlight): void => {
      const n = this.admitting.get(entry.origin)!;
      if (n <= 1) this.admitting.delete(entry.origin);
      else this.admitting.set(entry.origin, n - 1);
    };
    void this.notifications.forClaims(claims).then(
      (notifications) => {
        const lost: InFlight[] = [];
        for (const entry of entries) {
          admitted(entry);
          const notification = notifications.get(entry.claim.deliveryId);
          if (notification !== undefined) entry.notification = notification;
          else {
            this.reportFailure(new Error('the log holds no completion for this delivery'), { deliveryId: entry.claim.deliveryId }, 'preparing a delivery attempt failed; not sent');
            lost.push(entry);
          }
        }
        this.slots.enqueue(entries.filter((entry) => entry.notification !== null));
        this.giveBack(lost);
        if (this.stopping) this.giveBack(this.slots.drain());
        this.pump();
      },
      (error: unknown) => {
        this.reportFailure(error, {}, 'reading the notifications of claimed attempts failed; not sent');
        for (const entry of entries) admitted(entry);
        this.giveBack(entries);
      },
    );
  }

  /** Sends what the free slots allow, from what waits. */
  private pump(): void {
    if (this.slots.queued === 0) return;
    const now = Date.now();
    for (const entry of this.slots.takeSendable()) {
      let prepared: PreparedAttempt;
      try {
        prepared = prepareAttempt(entry.claim, entry.notification!, this.app.secretBox, this.userAgent, now);
      } catch (error) {
        this.reportFailure(error, { deliveryId: entry.claim.deliveryId }, 'preparing a delivery attempt failed; not sent');
        this.slots.answered(entry.origin);
        this.giveBack([entry]);
        continue;
      }
      this.send(entry, prepared);
    }
  }

  /** The send stage; the response frees the slot, fills it from what waits, and queues the attempt for the next cycle's recording. */
  private send(entry: InFlight, prepared: PreparedAttempt): void {
    this.counters.attempted++;
    void this.transport.send(prepared).then((result) => {
      this.slots.answered(entry.origin);
      if (!this.abandoned) this.pump();
      const { outcome, durationMs } = result;
      const label = attemptResult(outcome);
      const succeeded = label === 'success';
      // Successes at debug (one per delivery); failures at info, for operators. Origins only: URLs may hold secrets.
      this.logger[succeeded ? 'debug' : 'info'](
        { deliveryId: entry.claim.deliveryId, workerId: entry.claim.workerId, attempt: entry.claim.attempt, origin: entry.origin, responseStatus: outcome.responseStatus, error: outcome.transportError, durationMs },
        succeeded ? 'delivery attempt succeeded' : 'delivery attempt failed',
      );
      if (this.abandoned) {
        // Cut short by a stop that ran out of patience: not recorded; the claim lapses and the attempt is made again.
        this.slots.recorded(entry.origin);
        this.inFlightAttempts.delete(entry);
        if (this.waiters.length > 0) for (const wake of this.waiters.splice(0)) wake();
        return;
      }
      this.ended.push({ entry, prepared, result });
      this.options.observer.attemptEnded({ result: label, durationMs, attempt: entry.claim.attempt, type: entry.notification!.type });
      // Its origin's line running low: the cycle that records this claims too.
      if (this.slots.waitingFor(entry.origin) <= this.options.perOriginConcurrency / 2) this.claimWanted = true;
      this.cycleSoon();
    });
  }

  /** Attempts that waited too long for a slot are given back: their claims would lapse before a send could end. */
  private giveBackExpired(): void {
    if (this.slots.queued === 0) return;
    const oldest = Date.now() - QUEUE_WAIT_MS;
    this.giveBack(this.slots.removeWaiting((entry) => entry.claimedAtMs < oldest));
  }

  /** Claims never sent, given back in one transaction: the attempts are claimable again at once. */
  private giveBack(entries: readonly InFlight[]): void {
    if (entries.length === 0) return;
    void this.app.database
      .transaction((tx) => this.app.claims.release(tx, entries.map((entry) => entry.claim.claimToken)))
      .catch((error: unknown) => this.reportFailure(error, {}, 'giving back unsent claims failed; they lapse instead'))
      .finally(() => {
        for (const entry of entries) this.inFlightAttempts.delete(entry);
        this.wake();
      });
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
      this.hints.workMayBeDue();
      this.wake();
    }, Math.max(0, at - Date.now()));
  }

  /**
   * Logs a failure of the loop. While storage refuses writes (a full disk,
   * a database gone) every cycle fails the same way: those are logged once
   * a minute with a count, not each time.
   */
  private reportFailure(error: unknown, fields: object, message: string): void {
    const unavailable = asStorageUnavailable(error);
    if (unavailable === null) return this.logger.error({ ...fields, err: errorText(error) }, message);
    this.storageOutage((suppressed) => this.logger.error({ ...fields, reason: unavailable.message, failuresSinceLastLine: suppressed }, `${message} (storage unavailable)`));
  }

  /** Resolves once `done()` holds, checked after every cycle and every abandoned send. */
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
    await this.recoveries.stop();
    this.giveBack(this.slots.drain()); // never sent: claimable again at once
    this.wake(); // records what ended, claims nothing more
    let deadline: NodeJS.Timeout | undefined;
    const settled = await Promise.race([
      this.until(() => this.inFlightAttempts.size === 0 && !this.cycling).then(() => true),
      new Promise<boolean>((resolve) => (deadline = setTimeout(() => resolve(false), this.options.shutdownTimeoutMs))),
    ]);
    clearTimeout(deadline);
    if (settled) {
      await this.transport.close();
    } else {
      this.abandoned = true;
      this.logger.warn({ abandoned: this.slots.onWire }, 'stopped with attempts in flight; they will be sent again when their claims lapse');
      await this.transport.destroy();
      // Sends cut short end now; what had already ended is recorded by the cycle running or due.
      this.wake();
      await this.until(() => this.inFlightAttempts.size === 0 && !this.cycling);
    }
    this.logger.info({ ...this.counters }, 'delivery stopped');
  }
}

/** An error's code or message for logs (they never carry request bodies or secrets). */
function errorText(error: unknown): string {
  if (error instanceof Error) return 'code' in error ? `${String(error.code)}: ${error.message}` : error.message;
  return String(error);
}
