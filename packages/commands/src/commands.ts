import {
  streams,
  workerId as makeWorkerId,
  type ApiKeyRole,
  type AttemptResult,
  type CreateWorkerInput,
  type DeliveryAttempted,
  type IdGenerator,
  type TaskCompletionInput,
} from '@handinger-webhooks/contracts';
import {
  DomainError,
  apiKeyDecider,
  deliveryDecider,
  failingLongEnough,
  foldState,
  recoveryDecider,
  taskDecider,
  webhookDecider,
  workerDecider,
  type DeliveryState,
  type PendingDelivery,
  type RecordDelivery,
  type SendOutcome,
  type WebhookSecrets,
} from '@handinger-webhooks/domain';
import { ConcurrencyError, isoClock, lockForTransaction, type Database, type EventLog, type TxSql } from '@handinger-webhooks/event-store';
import {
  CLAIM_METADATA,
  type ApiKeyRow,
  type ClaimedAttempt,
  type ExecutionRow,
  type FailedRange,
  type ReadModels,
  type RecoveryRow,
  type WebhookRow,
  type WorkerRow,
} from '@handinger-webhooks/projections';
import { sealWebhookSecrets, type SecretBox } from '@handinger-webhooks/secrets';
import { decideAndAppend, handle } from './handle.js';
import { generateApiKey, generateWebhookSecrets, hashApiKey } from './secrets.js';

export interface CommandDependencies {
  database: Database;
  log: EventLog;
  readModels: ReadModels;
  ids: IdGenerator;
  clock?: () => Date;
  /** Fresh webhook secrets in the clear; sealed under `secretBox` before they reach a decider. */
  secrets?: () => WebhookSecrets;
  secretBox: SecretBox;
}

/** Who issues a command, recorded in event metadata for audit. */
export interface Actor {
  keyId: string;
}

/** How recordings treat a webhook that keeps failing (SPEC §8.5): disabled after `disableAfterMs` (0 or absent: never). */
export interface RecordingOptions {
  disableAfterMs?: number;
}

/** One send of a claimed attempt, as the delivery pipeline reports it. */
export type AttemptOutcomeRecord = Omit<RecordDelivery, 'type' | 'now' | 'deliveryId' | 'attempt' | 'dueAt' | 'taskId' | 'retryAfterMs' | 'jitter' | 'userAgent'> &
  Partial<Pick<RecordDelivery, 'retryAfterMs' | 'jitter' | 'userAgent'>> & {
    claim: ClaimedAttempt;
  };

/** What recording an attempt decided (read off the appended event, never re-derived). */
export type RecordedAttempt =
  /** `webhookDisabled`: this recording disabled the webhook, failing too long (SPEC §8.5). */
  | { recorded: true; result: AttemptResult; nextAttemptAt: string | null; webhookDisabled?: true }
  | { recorded: false; reason: 'duplicate' }
  | { recorded: false; reason: 'rejected'; error: DomainError };

const workerNotFound = (workerId: string) => new DomainError('not_found', 'worker_not_found', `worker ${workerId} not found`);
const webhookNotConfigured = () => new DomainError('conflict', 'webhook_not_configured', 'no webhook is configured for this worker');

/** What a recovery asks for (SPEC §8.4); times are ISO 8601. */
export interface RecoveryRequest {
  since: string;
  until?: string;
  dryRun?: boolean;
}

/** A recovery as the API shows it (`row` is `null` for a dry run). */
export interface RecoveryView {
  row: RecoveryRow | null;
  since: string;
  until: string;
  total: number;
}

/** Resends per transaction of a recovery (each is one small append). */
const RECOVERY_BATCH = 200;

/** How many times a command is decided again after losing a race for its stream. */
const CONCURRENCY_RETRIES = 5;

/** The state a claim's row stands for: the delivery as of `claim.version`, so an attempt is decided without reading its stream. */
const snapshotOf = (claim: ClaimedAttempt): { state: DeliveryState; version: number } => ({
  state: {
    status: 'pending',
    workerId: claim.workerId,
    taskId: claim.taskId,
    taskPosition: claim.taskPosition,
    webhookGeneration: claim.generation,
    firstAttemptedAt: claim.firstAttemptedAt,
    nextAttempt: claim.attempt,
    dueAt: claim.dueAt,
    trigger: claim.trigger,
    oneShot: claim.oneShot,
    recoveryId: claim.recoveryId,
    executions: [],
  } satisfies PendingDelivery,
  version: claim.version,
});

/**
 * The application's commands: each one runs in a write transaction
 * (group-committed on SQLite), reads what it decides from, is decided by a
 * pure decider, appends, and resolves after the commit with what the caller
 * needs to answer (read from the freshly projected read models). A command
 * that lost a race for its stream is decided again from the log.
 */
export class Commands {
  private readonly database: Database;
  private readonly log: EventLog;
  private readonly readModels: ReadModels;
  private readonly ids: IdGenerator;
  private readonly secrets: () => WebhookSecrets;
  private readonly secretBox: SecretBox;
  /** The command's time (ISO 8601), from the injected clock. */
  private readonly now: () => string;

  constructor(deps: CommandDependencies) {
    this.database = deps.database;
    this.log = deps.log;
    this.readModels = deps.readModels;
    this.ids = deps.ids;
    this.now = isoClock(deps.clock ?? (() => new Date()));
    this.secrets = deps.secrets ?? generateWebhookSecrets;
    this.secretBox = deps.secretBox;
  }

  /** Fresh secrets for a worker's webhook, sealed: events and read models never hold them in the clear (SPEC §7). */
  private sealedSecrets = (workerId: string): WebhookSecrets => sealWebhookSecrets(this.secretBox, workerId, this.secrets());

  /** Runs `work` in a write transaction, again from scratch when it lost a race for a stream. */
  private async write<T>(work: (tx: TxSql) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.database.transaction(work);
      } catch (error) {
        if (!(error instanceof ConcurrencyError) || attempt >= CONCURRENCY_RETRIES) throw error;
      }
    }
  }

  private metadata = (actor?: Actor) => (actor ? { actor: actor.keyId } : undefined);

  /** Inside the transaction: the worker must exist and not be deleted (its row is locked against a concurrent delete). */
  private async activeWorker(tx: TxSql, workerId: string): Promise<void> {
    if (!(await this.readModels.isLiveWorker(workerId, { sql: tx, lock: true }))) throw workerNotFound(workerId);
  }

  createWorker(owner: { organizationId: string; userId: string }, input: CreateWorkerInput, actor?: Actor): Promise<WorkerRow> {
    const workerId = makeWorkerId(owner.organizationId, this.ids.ulid());
    return this.write(async (tx) => {
      await handle(tx, this.log, workerDecider, streams.worker(workerId), {
        type: 'CreateWorker',
        workerId,
        organizationId: owner.organizationId,
        userId: owner.userId,
        title: input.title ?? 'Untitled worker',
        instructions: input.instructions ?? '',
        summary: input.summary ?? '',
        visibility: input.visibility ?? 'public',
        now: this.now(),
      }, this.metadata(actor));
      return (await this.readModels.worker(workerId, { sql: tx }))!;
    });
  }

  /** Soft-deletes the worker and removes its webhook, which drops its pending deliveries. */
  deleteWorker(workerId: string, actor?: Actor): Promise<void> {
    return this.write(async (tx) => {
      const now = this.now();
      await handle(tx, this.log, workerDecider, streams.worker(workerId), { type: 'DeleteWorker', workerId, now }, this.metadata(actor));
      await handle(tx, this.log, webhookDecider, streams.webhook(workerId), { type: 'DeleteWebhook', workerId, reason: 'worker_deleted', now }, this.metadata(actor));
    });
  }

  /** Sets (or with `null`, removes) the worker's webhook URL. The URL must already satisfy the URL policy. */
  setWebhook(workerId: string, url: string | null, actor?: Actor): Promise<WebhookRow | undefined> {
    return this.write(async (tx) => {
      await this.activeWorker(tx, workerId);
      await handle(tx, this.log, webhookDecider, streams.webhook(workerId), {
        type: 'SetWebhook',
        workerId,
        url,
        secrets: this.sealedSecrets(workerId),
        now: this.now(),
      }, this.metadata(actor));
      return this.readModels.webhook(workerId, { sql: tx });
    });
  }

  deleteWebhook(workerId: string, actor?: Actor): Promise<void> {
    return this.write(async (tx) => {
      await this.activeWorker(tx, workerId);
      await handle(tx, this.log, webhookDecider, streams.webhook(workerId), { type: 'DeleteWebhook', workerId, reason: 'removed', now: this.now() }, this.metadata(actor));
    });
  }

  /**
   * New token and signing secret, same URL; for `gracePeriodSeconds` the
   * previous signing secret signs too (SPEC §8.1).
   * @throws DomainError `webhook_not_configured` (409).
   */
  rotateToken(workerId: string, gracePeriodSeconds = 0, actor?: Actor): Promise<WebhookRow> {
    return this.webhookCommand(workerId, { type: 'RotateToken', workerId, secrets: this.sealedSecrets(workerId), gracePeriodSeconds, now: this.now() }, actor);
  }

  /** SPEC §8.5, by hand: idempotent. @throws DomainError `webhook_not_configured` (409). */
  disableWebhook(workerId: string, actor?: Actor): Promise<WebhookRow> {
    return this.webhookCommand(workerId, { type: 'DisableWebhook', workerId, reason: 'manual', now: this.now() }, actor);
  }

  /** Held notifications go out, oldest first: idempotent. @throws DomainError `webhook_not_configured` (409). */
  enableWebhook(workerId: string, actor?: Actor): Promise<WebhookRow> {
    return this.webhookCommand(workerId, { type: 'EnableWebhook', workerId, now: this.now() }, actor);
  }

  private webhookCommand(workerId: string, command: Parameters<typeof webhookDecider.decide>[0], actor?: Actor): Promise<WebhookRow> {
    return this.write(async (tx) => {
      await this.activeWorker(tx, workerId);
      await handle(tx, this.log, webhookDecider, streams.webhook(workerId), command, this.metadata(actor));
      return (await this.readModels.webhook(workerId, { sql: tx }))!;
    });
  }

  /**
   * Sends the notification of one of the worker's executions once more
   * (SPEC §8.3): same webhook-id and body, the webhook's current URL and
   * secrets. @throws DomainError `execution_not_found` (404), `webhook_not_configured` (409).
   */
  redeliver(workerId: string, executionId: string, actor?: Actor): Promise<void> {
    return this.write(async (tx) => {
      await this.activeWorker(tx, workerId);
      const execution = await this.readModels.execution(workerId, executionId, tx);
      if (execution === undefined) throw new DomainError('not_found', 'execution_not_found', `execution ${executionId} not found`);
      const webhook = await this.readModels.webhook(workerId, { sql: tx, lock: true });
      if (webhook === undefined) throw webhookNotConfigured();
      await handle(tx, this.log, deliveryDecider, streams.delivery(execution.delivery_id), {
        type: 'ResendDelivery',
        deliveryId: execution.delivery_id,
        trigger: 'redeliver',
        recoveryId: null,
        webhookGeneration: webhook.generation,
        now: this.now(),
      }, this.metadata(actor));
    });
  }

  /**
   * Starts a recovery of the worker's failed notifications (SPEC §8.4), or
   * with `dryRun` only counts them. Its selection is fixed now: the
   * failures recorded up to the log's head. A delivery loop resends them
   * (`advanceRecovery`). @throws DomainError `webhook_not_configured` (409: none, or disabled).
   */
  startRecovery(workerId: string, request: RecoveryRequest, actor?: Actor): Promise<RecoveryView> {
    return this.write(async (tx) => {
      await this.activeWorker(tx, workerId);
      const now = this.now();
      const since = new Date(request.since).toISOString();
      const until = request.until === undefined ? now : new Date(request.until).toISOString();
      if (!(since < until)) throw new DomainError('invalid', 'recovery_range', 'since: must be before until');
      if (until > now) throw new DomainError('invalid', 'recovery_range', 'until: must not be in the future');
      const webhook = await this.readModels.webhook(workerId, { sql: tx, lock: true });
      if (webhook === undefined) throw webhookNotConfigured();
      if (webhook.status === 'disabled') throw new DomainError('conflict', 'webhook_disabled', 'the webhook is disabled: enable it first');
      const range: FailedRange = { workerId, since, until, upTo: await this.log.headPosition(tx) };
      const total = await this.readModels.failedCount(range, tx);
      if (request.dryRun) return { row: null, since, until, total };
      const recoveryId = this.ids.recoveryId();
      const streamId = streams.recovery(recoveryId);
      const started = { type: 'StartRecovery' as const, recoveryId, workerId, since, until, total, selectedUpTo: range.upTo, now };
      await decideAndAppend(tx, this.log, recoveryDecider, streamId, started, { state: recoveryDecider.initialState(), version: 0 }, this.metadata(actor));
      // Nothing to resend: complete at once.
      if (total === 0) await handle(tx, this.log, recoveryDecider, streamId, { type: 'FinishRecoveryScheduling', recoveryId, resent: 0, now });
      return { row: (await this.readModels.recovery(recoveryId, tx))!, since, until, total };
    });
  }

  /**
   * Resends the next batch of a recovery's selection, in one transaction
   * (the failed-deliveries read model loses each as it is resent, so a
   * crash between batches resumes where the last commit left it), and
   * ends its scheduling once none is left. One process at a time works on
   * a recovery (a transaction lock on its name); a resend is decided by the
   * delivery's decider, which resends only what ended in failure, so a race
   * never sends one twice. Returns whether the recovery's scheduling is over.
   */
  advanceRecovery(recoveryId: string): Promise<boolean> {
    return this.write(async (tx) => {
      await lockForTransaction(tx, `recovery-${recoveryId}`);
      const recovery = await this.readModels.recovery(recoveryId, tx);
      if (recovery === undefined || recovery.resent !== null) return true;
      const now = this.now();
      const webhook = await this.readModels.webhook(recovery.worker_id, { sql: tx, lock: true });
      const range: FailedRange = { workerId: recovery.worker_id, since: recovery.since, until: recovery.until, upTo: Number(recovery.selected_up_to) };
      const batch = webhook === undefined ? [] : await this.readModels.failedBatch(range, RECOVERY_BATCH, tx);
      let resentHere = 0;
      for (const failed of batch) {
        resentHere += (await handle(tx, this.log, deliveryDecider, streams.delivery(failed.delivery_id), {
          type: 'ResendDelivery',
          deliveryId: failed.delivery_id,
          trigger: 'recover',
          recoveryId,
          webhookGeneration: webhook!.generation,
          now,
        })).length;
      }
      if (batch.length === RECOVERY_BATCH) return false;
      const resent = Number(recovery.scheduled) + resentHere;
      await handle(tx, this.log, recoveryDecider, streams.recovery(recoveryId), { type: 'FinishRecoveryScheduling', recoveryId, resent, now });
      return true;
    });
  }

  /**
   * Records a test notification's one send (SPEC §8.2) under the slot it
   * held (`claimToken`), and returns its execution.
   */
  recordTestAttempt(workerId: string, deliveryId: string, send: SendOutcome, claimToken: string): Promise<ExecutionRow> {
    return this.write(async (tx) => {
      const webhook = await this.readModels.webhook(workerId, { sql: tx });
      await handle(tx, this.log, deliveryDecider, streams.delivery(deliveryId), {
        type: 'RecordTestAttempt',
        deliveryId,
        workerId,
        webhookGeneration: webhook?.generation ?? 0,
        ...send,
      }, { [CLAIM_METADATA]: claimToken });
      return (await this.readModels.execution(workerId, send.executionId, tx))!;
    });
  }

  /**
   * Records a finished task, idempotently per `taskId`: a repeat for the
   * same worker is a duplicate (even if the worker was deleted since); a new
   * completion needs an active worker. When the worker has a webhook, the
   * notification is opened in the same transaction: it exists exactly when
   * the completion was accepted with a webhook configured (SPEC §5), and the
   * delivery app can claim it the moment the commit lands.
   */
  recordTaskCompletion(input: TaskCompletionInput, actor?: Actor): Promise<{ duplicate: boolean; deliveryId: string | null }> {
    return this.write(async (tx) => {
      const streamId = streams.task(input.taskId);
      const past = await this.log.readStream(tx, streamId);
      if (past.length === 0) await this.activeWorker(tx, input.workerId);
      const now = this.now();
      const [completed] = await decideAndAppend(tx, this.log, taskDecider, streamId, {
        type: 'RecordTaskCompletion',
        taskId: input.taskId,
        workerId: input.workerId,
        title: input.title ?? null,
        status: input.status,
        completedAt: input.completedAt === undefined ? null : new Date(input.completedAt).toISOString(),
        output: input.output ?? null,
        now,
      }, { state: foldState(taskDecider, past as never), version: past.length }, this.metadata(actor));
      if (completed === undefined) return { duplicate: true, deliveryId: null };
      const webhook = await this.readModels.webhook(input.workerId, { sql: tx, lock: true });
      if (webhook === undefined) return { duplicate: false, deliveryId: null };
      const deliveryId = this.ids.deliveryId();
      // A fresh delivery id names a stream nobody has written: decided from the initial state, no read.
      await decideAndAppend(tx, this.log, deliveryDecider, streams.delivery(deliveryId), {
        type: 'ScheduleDelivery',
        deliveryId,
        workerId: input.workerId,
        taskId: input.taskId,
        taskPosition: completed.globalPosition,
        webhookGeneration: webhook.generation,
        now,
      }, { state: deliveryDecider.initialState(), version: 0 });
      return { duplicate: false, deliveryId };
    });
  }

  /**
   * Issues an API key and returns it: the only time it exists outside the
   * caller's hands, since only its hash is stored. Pass `key` to register a
   * known key (the bootstrap key of SPEC §2).
   */
  issueApiKey(request: { role: ApiKeyRole; organizationId: string | null; userId: string | null; name: string | null; key?: string }): Promise<{ key: string; row: ApiKeyRow }> {
    return this.write((tx) => this.issueApiKeyIn(tx, request));
  }

  private async issueApiKeyIn(
    tx: TxSql,
    request: { role: ApiKeyRole; organizationId: string | null; userId: string | null; name: string | null; key?: string },
  ): Promise<{ key: string; row: ApiKeyRow }> {
    const key = request.key ?? generateApiKey();
    const keyId = this.ids.apiKeyId();
    await handle(tx, this.log, apiKeyDecider, streams.apiKey(keyId), {
      type: 'IssueApiKey',
      keyId,
      keyHash: hashApiKey(key),
      role: request.role,
      organizationId: request.organizationId,
      userId: request.userId,
      name: request.name,
      now: this.now(),
    });
    return { key, row: (await this.readModels.apiKeyById(keyId, tx))! };
  }

  /**
   * Issues the first key of a new database, atomically: `null` when any key
   * exists already (two processes starting together issue one key, not two).
   */
  issueFirstApiKey(request: { organizationId: string; userId: string; name: string; key?: string }): Promise<{ key: string; row: ApiKeyRow } | null> {
    return this.write(async (tx) => {
      await lockForTransaction(tx, 'first-api-key');
      if (await this.readModels.hasApiKeys(tx)) return null;
      return this.issueApiKeyIn(tx, { role: 'user', ...request });
    });
  }

  revokeApiKey(keyId: string): Promise<ApiKeyRow> {
    return this.write(async (tx) => {
      await handle(tx, this.log, apiKeyDecider, streams.apiKey(keyId), { type: 'RevokeApiKey', keyId, now: this.now() });
      return (await this.readModels.apiKeyById(keyId, tx))!;
    });
  }

  /**
   * Records a batch of sends, in one transaction, each decided from its
   * claim's snapshot of the delivery (and from the log if the snapshot turns
   * out stale) and appended under its claim (the queue's fence). Returns,
   * per send and in order, what the decider decided. A send the decider
   * rejects is reported, not thrown: the others are recorded.
   */
  recordAttempts(sends: readonly AttemptOutcomeRecord[], options: RecordingOptions = {}): Promise<RecordedAttempt[]> {
    return this.write((tx) => this.recordAttemptsIn(tx, sends, options));
  }

  /**
   * `recordAttempts` inside the caller's write transaction (the delivery
   * pipeline records and claims in one). After a failed attempt, a webhook
   * that has failed for `disableAfterMs` is disabled (SPEC §8.5), decided
   * from the failure span its read model keeps.
   */
  async recordAttemptsIn(tx: TxSql, sends: readonly AttemptOutcomeRecord[], options: RecordingOptions = {}): Promise<RecordedAttempt[]> {
    const results: RecordedAttempt[] = [];
    for (const send of sends) results.push(await this.recordAttemptIn(tx, send));
    const disableAfterMs = options.disableAfterMs ?? 0;
    if (disableAfterMs <= 0) return results;
    const checked = new Set<string>();
    for (const [i, result] of results.entries()) {
      const { workerId } = sends[i]!.claim;
      if (!result.recorded || (result.result !== 'exhausted' && result.result !== 'retry') || checked.has(workerId)) continue;
      checked.add(workerId);
      if (await this.disableIfFailingIn(tx, workerId, disableAfterMs)) results[i] = { ...result, webhookDisabled: true };
    }
    return results;
  }

  private async disableIfFailingIn(tx: TxSql, workerId: string, disableAfterMs: number): Promise<boolean> {
    const webhook = await this.readModels.webhook(workerId, { sql: tx });
    if (webhook === undefined) return false;
    const now = this.now();
    const span = { status: webhook.status, failingSince: webhook.failing_since, exhaustedInSpan: Number(webhook.exhausted_in_span) === 1 };
    if (!failingLongEnough(span, now, disableAfterMs)) return false;
    const events = await handle(tx, this.log, webhookDecider, streams.webhook(workerId), { type: 'DisableWebhook', workerId, reason: 'failing', now });
    return events.length > 0;
  }

  private async recordAttemptIn(tx: TxSql, send: AttemptOutcomeRecord): Promise<RecordedAttempt> {
    const { claim } = send;
    const streamId = streams.delivery(claim.deliveryId);
    // Field by field rather than by spreading the send: this runs for every attempt, and spreads cost it ≈1 µs.
    const command: RecordDelivery = {
      type: 'RecordDelivery',
      deliveryId: claim.deliveryId,
      attempt: claim.attempt,
      dueAt: claim.dueAt,
      taskId: claim.taskId,
      taskTitle: send.taskTitle,
      executionId: send.executionId,
      startedAt: send.startedAt,
      durationMs: send.durationMs,
      url: send.url,
      responseStatus: send.responseStatus,
      transportError: send.transportError,
      retryAfterMs: send.retryAfterMs ?? null,
      userAgent: send.userAgent ?? '',
      retryScheduleMs: send.retryScheduleMs,
      jitter: send.jitter ?? 0,
      now: this.now(),
    };
    const metadata = { [CLAIM_METADATA]: claim.claimToken };
    let events: { data: DeliveryAttempted['data'] }[];
    try {
      try {
        events = (await decideAndAppend(tx, this.log, deliveryDecider, streamId, command, snapshotOf(claim), metadata)) as never;
      } catch (error) {
        if (!(error instanceof ConcurrencyError)) throw error;
        // The row's snapshot was stale (another process recorded meanwhile): decide from the log.
        events = (await handle(tx, this.log, deliveryDecider, streamId, command, metadata)) as never;
      }
    } catch (error) {
      if (error instanceof DomainError) return { recorded: false, reason: 'rejected', error };
      throw error;
    }
    const [attempted] = events;
    if (attempted === undefined) return { recorded: false, reason: 'duplicate' };
    return { recorded: true, result: attempted.data.result!, nextAttemptAt: attempted.data.nextAttemptAt };
  }

  /** Ends pending deliveries whose webhook is gone or was replaced (claimed as orphans), under their claims. */
  dropDeliveries(orphans: readonly { deliveryId: string; claimToken: string; dueAt?: string }[]): Promise<number> {
    if (orphans.length === 0) return Promise.resolve(0);
    return this.write((tx) => this.dropDeliveriesIn(tx, orphans));
  }

  /** `dropDeliveries` inside the caller's write transaction. */
  async dropDeliveriesIn(tx: TxSql, orphans: readonly { deliveryId: string; claimToken: string; dueAt?: string }[]): Promise<number> {
    let dropped = 0;
    for (const orphan of orphans) {
      const command = { type: 'DropDelivery' as const, deliveryId: orphan.deliveryId, ...(orphan.dueAt ? { dueAt: orphan.dueAt } : {}), now: this.now() };
      const events = await handle(tx, this.log, deliveryDecider, streams.delivery(orphan.deliveryId), command, {
        [CLAIM_METADATA]: orphan.claimToken,
      });
      dropped += events.length;
    }
    return dropped;
  }
}
