import type { RequestStatus, TaskStatus, Visibility } from './models.js';

/**
 * Every event the log holds, one discriminated union. Events are facts: they
 * carry every value their projections need (ids, times, decided retry times),
 * so a rebuild replays them without consulting clocks or configuration.
 * Times are ISO 8601 UTC strings with milliseconds.
 */
export type Event<Type extends string, Data> = { type: Type; data: Data };

export type WorkerCreated = Event<
  'WorkerCreated',
  {
    workerId: string;
    organizationId: string;
    userId: string;
    title: string;
    instructions: string;
    summary: string;
    visibility: Visibility;
    createdAt: string;
  }
>;
export type WorkerDeleted = Event<'WorkerDeleted', { workerId: string; deletedAt: string }>;
export type WorkerEvent = WorkerCreated | WorkerDeleted;

/** A webhook comes into being (first set, or set again after a removal) with fresh secrets. */
export type WebhookConfigured = Event<
  'WebhookConfigured',
  { workerId: string; url: string; token: string; signingSecret: string; configuredAt: string }
>;
export type WebhookUrlChanged = Event<'WebhookUrlChanged', { workerId: string; url: string; changedAt: string }>;
/**
 * New secrets; with an overlap window (SPEC §8.1) the previous signing
 * secret (sealed) keeps signing beside the new one until
 * `previousSigningSecretExpiresAt`. Without one, both fields are absent.
 */
export type WebhookTokenRotated = Event<
  'WebhookTokenRotated',
  { workerId: string; token: string; signingSecret: string; rotatedAt: string; previousSigningSecret?: string; previousSigningSecretExpiresAt?: string }
>;
export type WebhookRemoved = Event<
  'WebhookRemoved',
  { workerId: string; reason: 'removed' | 'worker_deleted'; removedAt: string }
>;
/** SPEC §8.5: nothing is sent (tests aside) until enabled; notifications are held. */
export type WebhookDisabled = Event<'WebhookDisabled', { workerId: string; reason: 'manual' | 'failing'; disabledAt: string }>;
/** Held notifications go out, oldest first. */
export type WebhookEnabled = Event<'WebhookEnabled', { workerId: string; enabledAt: string }>;
export type WebhookEvent = WebhookConfigured | WebhookUrlChanged | WebhookTokenRotated | WebhookRemoved | WebhookDisabled | WebhookEnabled;

export type ApiKeyRole = 'user' | 'service';
export type ApiKeyIssued = Event<
  'ApiKeyIssued',
  {
    keyId: string;
    /** SHA-256 of the key, hex. The key itself is never stored. */
    keyHash: string;
    role: ApiKeyRole;
    organizationId: string | null;
    userId: string | null;
    name: string | null;
    issuedAt: string;
  }
>;
export type ApiKeyRevoked = Event<'ApiKeyRevoked', { keyId: string; revokedAt: string }>;
export type ApiKeyEvent = ApiKeyIssued | ApiKeyRevoked;

export type TaskCompleted = Event<
  'TaskCompleted',
  {
    taskId: string;
    workerId: string;
    title: string | null;
    status: TaskStatus;
    completedAt: string;
    output: unknown;
    recordedAt: string;
  }
>;
export type TaskEvent = TaskCompleted;

/** One notification of one task completion; its `deliveryId` is the `webhook-id` of every attempt. */
export type DeliveryScheduled = Event<
  'DeliveryScheduled',
  {
    deliveryId: string;
    workerId: string;
    taskId: string;
    /**
     * Global position of the `TaskCompleted` it notifies, so its body is one
     * lookup away. Absent in deliveries opened before it was recorded: their
     * body is found through `taskId`.
     */
    taskPosition?: number;
    /** Global position of the `WebhookConfigured` the delivery belongs to; a removal ends it. */
    webhookGeneration: number;
    dueAt: string;
    scheduledAt: string;
  }
>;

/**
 * What an attempt decided, as the decider recorded it: `delivered` (2xx),
 * `retry` (another attempt is scheduled), `gone` (HTTP 410: no more
 * attempts), `exhausted` (the schedule ran out), `failed` (a single attempt
 * — a test, redelivery or recovery — that did not succeed; never retried),
 * or `superseded` (a late send of an attempt another process already
 * recorded: logged, schedule unchanged).
 */
export type AttemptResult = 'delivered' | 'retry' | 'gone' | 'exhausted' | 'failed' | 'superseded';

/** Why an attempt was made (SPEC §8.7): the first, a retry, an operator's redelivery or recovery, a test, or the first after an enable. */
export type AttemptTrigger = 'delivery' | 'retry' | 'redeliver' | 'recover' | 'test' | 'enable';
/** One attempt, exactly what the execution log shows, plus the decided next attempt. */
export type DeliveryAttempted = Event<
  'DeliveryAttempted',
  {
    deliveryId: string;
    workerId: string;
    attempt: number;
    executionId: string;
    startedAt: string;
    durationMs: number;
    url: string;
    requestStatus: RequestStatus;
    responseStatus: number | null;
    errorMessage: string | null;
    taskId: string | null;
    taskTitle: string | null;
    /** When this attempt was due (where the schedule held it). */
    dueAt: string;
    /** When the next attempt is due, or `null` when the delivery has ended. */
    nextAttemptAt: string | null;
    /** The number of the next attempt when there is one (absent in older events: `attempt + 1`). */
    nextAttempt?: number;
    /** The decision (absent in events recorded before it was: derive it with `attemptResultOf`). */
    result?: AttemptResult;
    /** Why it was made (absent in older events: `delivery` for attempt 1, else `retry`). */
    trigger?: AttemptTrigger;
    /** The `User-Agent` it was sent with (the execution detail rebuilds the request from it). */
    userAgent?: string;
    /** The recovery it belongs to (trigger `recover`). */
    recoveryId?: string;
    /** When the notification was first attempted; on the attempt that ends it in failure (what a recovery selects by). */
    firstAttemptedAt?: string;
  }
>;
/**
 * An operator asked for one more attempt of a notification (SPEC §8.3,
 * §8.4): the same `webhook-id` and body, the webhook's current URL and
 * secrets. Of an ended notification it opens a single attempt (`oneShot`,
 * never retried); of one with an attempt pending it makes that attempt due
 * now (`previousDueAt` is where the queue held it), and its schedule goes on.
 */
export type DeliveryResent = Event<
  'DeliveryResent',
  {
    deliveryId: string;
    workerId: string;
    trigger: 'redeliver' | 'recover';
    recoveryId?: string;
    attempt: number;
    oneShot: boolean;
    webhookGeneration: number;
    dueAt: string;
    previousDueAt?: string;
    taskId: string | null;
    taskPosition?: number;
    firstAttemptedAt?: string;
    requestedAt: string;
  }
>;
/** A pending delivery whose webhook was removed (or replaced by a new generation) before its next attempt. */
export type DeliveryDropped = Event<
  'DeliveryDropped',
  { deliveryId: string; workerId: string; reason: 'webhook_removed'; dueAt: string; droppedAt: string }
>;
export type DeliveryEvent = DeliveryScheduled | DeliveryAttempted | DeliveryDropped | DeliveryResent;

/** The trigger an attempt was recorded with (older events: read off the attempt number). */
export function attemptTriggerOf(data: DeliveryAttempted['data']): AttemptTrigger {
  return data.trigger ?? (data.attempt === 1 ? 'delivery' : 'retry');
}

/**
 * A recovery (SPEC §8.4): every notification of the worker first attempted
 * in [since, until) that had ended in failure by `selectedUpTo` (a global
 * log position), sent once more. `total` is how many were selected.
 */
export type RecoveryStarted = Event<
  'RecoveryStarted',
  { recoveryId: string; workerId: string; since: string; until: string; total: number; selectedUpTo: number; createdAt: string }
>;
/** Every selected notification has been resent (its attempt may still be on the way). */
export type RecoveryScheduled = Event<'RecoveryScheduled', { recoveryId: string; workerId: string; resent: number; scheduledAt: string }>;
export type RecoveryEvent = RecoveryStarted | RecoveryScheduled;

/** The decision an attempt recorded; for events from before `result` was stored, read off the rest of the event. */
export function attemptResultOf(data: DeliveryAttempted['data']): AttemptResult {
  if (data.result !== undefined) return data.result;
  if (data.nextAttemptAt !== null) return 'retry';
  if (data.requestStatus === 'success') return 'delivered';
  return data.responseStatus === 410 ? 'gone' : 'exhausted';
}

/**
 * A portal link (SPEC §9.1): a credential scoped to one worker's webhook, stored
 * only as its hash. It lives as long as the webhook generation it was created
 * under (a removal ends it; a webhook set again is a new generation) and until
 * `expiresAt`.
 */
export type PortalSessionCreated = Event<
  'PortalSessionCreated',
  {
    sessionId: string;
    workerId: string;
    /** SHA-256 of the credential, hex, as for API keys. The credential itself is never stored. */
    credentialHash: string;
    readOnly: boolean;
    /** Global position of the `WebhookConfigured` the session belongs to. */
    webhookGeneration: number;
    expiresAt: string;
    createdAt: string;
  }
>;
export type PortalSessionEvent = PortalSessionCreated;

export type DomainEvent = WorkerEvent | WebhookEvent | ApiKeyEvent | TaskEvent | DeliveryEvent | RecoveryEvent | PortalSessionEvent;
export type DomainEventType = DomainEvent['type'];

/** Stream ids: one stream per aggregate instance. */
export const streams = {
  worker: (workerId: string) => `worker-${workerId}`,
  webhook: (workerId: string) => `webhook-${workerId}`,
  apiKey: (keyId: string) => `apikey-${keyId}`,
  task: (taskId: string) => `task-${taskId}`,
  delivery: (deliveryId: string) => `delivery-${deliveryId}`,
  recovery: (recoveryId: string) => `recovery-${recoveryId}`,
  portalSession: (sessionId: string) => `portal-${sessionId}`,
} as const;
