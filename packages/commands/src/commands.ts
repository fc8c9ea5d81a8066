import { streams, workerId as makeWorkerId, type ApiKeyRole, type CreateWorkerInput, type IdGenerator, type TaskCompletionInput } from '@handinger-webhooks/contracts';
import {
  DomainError,
  apiKeyDecider,
  deliveryDecider,
  taskDecider,
  webhookDecider,
  workerDecider,
  type Decider,
  type DropDelivery,
  type RecordDelivery,
  type WebhookSecrets,
} from '@handinger-webhooks/domain';
import type { EventStore } from '@handinger-webhooks/event-store';
import type { ApiKeyRow, ReadModels, WebhookRow, WorkerRow } from '@handinger-webhooks/projections';
import { sealWebhookSecrets, type SecretBox } from '@handinger-webhooks/secrets';
import { cachedHandle } from './cached-handle.js';
import { handle } from './handle.js';
import { GroupCommit } from './group-commit.js';
import { StreamStateCache } from './stream-state-cache.js';
import { generateApiKey, generateWebhookSecrets, hashApiKey } from './secrets.js';

export interface CommandDependencies {
  store: EventStore;
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

const workerNotFound = (workerId: string) => new DomainError('not_found', 'worker_not_found', `worker ${workerId} not found`);

/**
 * The application's commands. Each one runs in a group-committed transaction
 * and resolves after the commit with what the caller needs to answer (read
 * from the freshly projected read models).
 */
export class Commands {
  private readonly store: EventStore;
  private readonly readModels: ReadModels;
  private readonly ids: IdGenerator;
  private readonly clock: () => Date;
  private readonly secrets: () => WebhookSecrets;
  private readonly secretBox: SecretBox;
  private readonly commit: GroupCommit;
  private readonly cache = new StreamStateCache();

  constructor(deps: CommandDependencies) {
    this.store = deps.store;
    this.readModels = deps.readModels;
    this.ids = deps.ids;
    this.clock = deps.clock ?? (() => new Date());
    this.secrets = deps.secrets ?? generateWebhookSecrets;
    this.secretBox = deps.secretBox;
    this.commit = new GroupCommit(deps.store, this.cache);
  }

  private now = (): string => this.clock().toISOString();

  /** Fresh secrets for a worker's webhook, sealed: events and read models never hold them in the clear (SPEC §7). */
  private sealedSecrets = (workerId: string): WebhookSecrets => sealWebhookSecrets(this.secretBox, workerId, this.secrets());

  /** Decides and appends one command on one stream (see cachedHandle); only inside `this.commit.run`. */
  private execute<State, Command, Event extends { type: string; data: unknown }>(
    decider: Decider<State, Command, Event>,
    streamId: string,
    command: Command,
    actor?: Actor,
  ) {
    return cachedHandle(this.store, this.cache, decider, streamId, command, actor && { actor: actor.keyId });
  }

  /** Inside the transaction: the worker must exist and not be deleted. */
  private activeWorker(workerId: string): WorkerRow {
    const worker = this.readModels.worker(workerId);
    if (!worker || worker.deleted_at !== null) throw workerNotFound(workerId);
    return worker;
  }

  createWorker(owner: { organizationId: string; userId: string }, input: CreateWorkerInput, actor?: Actor): Promise<WorkerRow> {
    return this.commit.run(() => {
      const workerId = makeWorkerId(owner.organizationId, this.ids.ulid());
      this.execute(workerDecider, streams.worker(workerId), {
        type: 'CreateWorker',
        workerId,
        organizationId: owner.organizationId,
        userId: owner.userId,
        title: input.title ?? 'Untitled worker',
        instructions: input.instructions ?? '',
        summary: input.summary ?? '',
        visibility: input.visibility ?? 'public',
        now: this.now(),
      }, actor);
      return this.readModels.worker(workerId)!;
    });
  }

  /** Soft-deletes the worker and removes its webhook, which drops its pending deliveries. */
  deleteWorker(workerId: string, actor?: Actor): Promise<void> {
    return this.commit.run(() => {
      const now = this.now();
      this.execute(workerDecider, streams.worker(workerId), { type: 'DeleteWorker', workerId, now }, actor);
      this.execute(webhookDecider, streams.webhook(workerId), { type: 'DeleteWebhook', workerId, reason: 'worker_deleted', now }, actor);
    });
  }

  /** Sets (or with `null`, removes) the worker's webhook URL. The URL must already satisfy the URL policy. */
  setWebhook(workerId: string, url: string | null, actor?: Actor): Promise<WebhookRow | undefined> {
    return this.commit.run(() => {
      this.activeWorker(workerId);
      this.execute(webhookDecider, streams.webhook(workerId), {
        type: 'SetWebhook',
        workerId,
        url,
        secrets: this.sealedSecrets(workerId),
        now: this.now(),
      }, actor);
      return this.readModels.webhook(workerId);
    });
  }

  deleteWebhook(workerId: string, actor?: Actor): Promise<void> {
    return this.commit.run(() => {
      this.activeWorker(workerId);
      this.execute(webhookDecider, streams.webhook(workerId), {
        type: 'DeleteWebhook',
        workerId,
        reason: 'removed',
        now: this.now(),
      }, actor);
    });
  }

  /** New token and signing secret, same URL. @throws DomainError `webhook_not_configured` (409). */
  rotateToken(workerId: string, actor?: Actor): Promise<WebhookRow> {
    return this.commit.run(() => {
      this.activeWorker(workerId);
      this.execute(webhookDecider, streams.webhook(workerId), {
        type: 'RotateToken',
        workerId,
        secrets: this.sealedSecrets(workerId),
        now: this.now(),
      }, actor);
      return this.readModels.webhook(workerId)!;
    });
  }

  /**
   * Records a finished task, idempotently per `taskId`. A repeat for the same
   * worker is a duplicate (even if the worker was deleted since); a new
   * completion needs an active worker.
   */
  recordTaskCompletion(input: TaskCompletionInput, actor?: Actor): Promise<{ duplicate: boolean }> {
    return this.commit.run(() => {
      const streamId = streams.task(input.taskId);
      const recorded = this.store.streamVersion(streamId) > 0;
      if (!recorded) this.activeWorker(input.workerId);
      const events = this.execute(taskDecider, streamId, {
        type: 'RecordTaskCompletion',
        taskId: input.taskId,
        workerId: input.workerId,
        title: input.title ?? null,
        status: input.status,
        completedAt: input.completedAt === undefined ? null : new Date(input.completedAt).toISOString(),
        output: input.output ?? null,
        now: this.now(),
      }, actor);
      return { duplicate: events.length === 0 };
    });
  }

  /**
   * Issues an API key and returns it: the only time it exists outside the
   * caller's hands, since only its hash is stored. Pass `key` to register a
   * known key (the bootstrap key of SPEC §2).
   */
  issueApiKey(request: {
    role: ApiKeyRole;
    organizationId: string | null;
    userId: string | null;
    name: string | null;
    key?: string;
  }): Promise<{ key: string; row: ApiKeyRow }> {
    return this.commit.run(() => this.issueApiKeyNow(request));
  }

  private issueApiKeyNow(request: {
    role: ApiKeyRole;
    organizationId: string | null;
    userId: string | null;
    name: string | null;
    key?: string;
  }): { key: string; row: ApiKeyRow } {
    const key = request.key ?? generateApiKey();
    const keyId = this.ids.apiKeyId();
    this.execute(apiKeyDecider, streams.apiKey(keyId), {
      type: 'IssueApiKey',
      keyId,
      keyHash: hashApiKey(key),
      role: request.role,
      organizationId: request.organizationId,
      userId: request.userId,
      name: request.name,
      now: this.now(),
    });
    return { key, row: this.readModels.apiKeyById(keyId)! };
  }

  /**
   * Issues the first key of a new database, atomically: `null` when any key
   * exists already (two processes starting together issue one key, not two).
   */
  issueFirstApiKey(request: { organizationId: string; userId: string; name: string; key?: string }): Promise<{ key: string; row: ApiKeyRow } | null> {
    return this.commit.run(() => {
      if (this.readModels.hasApiKeys()) return null;
      return this.issueApiKeyNow({ role: 'user', ...request });
    });
  }

  revokeApiKey(keyId: string): Promise<ApiKeyRow> {
    return this.commit.run(() => {
      this.execute(apiKeyDecider, streams.apiKey(keyId), { type: 'RevokeApiKey', keyId, now: this.now() });
      return this.readModels.apiKeyById(keyId)!;
    });
  }

  /** Opens a delivery for a task completion under the webhook generation it was accepted with. */
  scheduleDelivery(request: { workerId: string; taskId: string; webhookGeneration: number }): Promise<string> {
    return this.commit.run(() => this.openDelivery(request, true));
  }

  /** The synchronous form, for a caller already inside a transaction (the scheduler, with its checkpoint). */
  scheduleDeliveryNow(request: { workerId: string; taskId: string; webhookGeneration: number }): string {
    return this.openDelivery(request, false);
  }

  /**
   * A freshly minted delivery id names a stream nobody has written, so it is
   * decided from the initial state without reading it (a collision would still
   * hit the unique index). Inside GroupCommit the new state is cached too.
   */
  private openDelivery(request: { workerId: string; taskId: string; webhookGeneration: number }, inGroupCommit: boolean): string {
    const deliveryId = this.ids.deliveryId();
    const streamId = streams.delivery(deliveryId);
    const initial = deliveryDecider.initialState();
    const events = deliveryDecider.decide({ type: 'ScheduleDelivery', deliveryId, ...request, now: this.now() }, initial);
    this.store.append(streamId, events, 0, { versionIsKnown: true });
    if (inGroupCommit) {
      this.cache.stage(streamId, { decider: deliveryDecider, version: events.length, state: events.reduce(deliveryDecider.evolve, initial) });
    }
    return deliveryId;
  }

  /** Records one attempt (idempotent per attempt number) and the decided next attempt, if any. */
  recordDelivery(attempt: Omit<RecordDelivery, 'type' | 'now'>, alsoInTransaction?: () => void): Promise<void> {
    return this.commit.run(() => {
      this.execute(deliveryDecider, streams.delivery(attempt.deliveryId), {
        type: 'RecordDelivery',
        ...attempt,
        now: this.now(),
      });
      alsoInTransaction?.();
    });
  }

  /** Ends a pending delivery whose webhook is gone. */
  dropDelivery(deliveryId: string): Promise<void> {
    return this.commit.run(() => {
      this.execute(deliveryDecider, streams.delivery(deliveryId), this.dropCommand(deliveryId));
    });
  }

  /** The synchronous form, for a caller already inside a transaction (the delivery app's claim). */
  dropDeliveryNow(deliveryId: string): void {
    handle(this.store, deliveryDecider, streams.delivery(deliveryId), this.dropCommand(deliveryId));
  }

  private dropCommand = (deliveryId: string): DropDelivery => ({ type: 'DropDelivery', deliveryId, now: this.now() });
}
