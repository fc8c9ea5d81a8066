import type { AttemptResult, AttemptTrigger, DeliveryAttempted, DeliveryEvent, RequestStatus } from '@handinger-webhooks/contracts';
import { DomainError, type Decider } from './decider.js';
import { nextDelayMs } from './retry-schedule.js';

/** The attempts recorded so far (their execution ids): recording one again changes nothing. */
type Recorded = { executions: readonly string[] };

/** What every state of a delivery knows of the notification. */
type Notified = {
  workerId: string;
  /** `null` for a test notification. */
  taskId: string | null;
  /** Global position of the completion (null for deliveries opened before it was recorded, and tests). */
  taskPosition: number | null;
  webhookGeneration: number;
  /** When it was first attempted (`null` until then). */
  firstAttemptedAt: string | null;
};

export type PendingDelivery = Recorded &
  Notified & {
    status: 'pending';
    nextAttempt: number;
    dueAt: string;
    /** Why the next attempt is made. */
    trigger: Exclude<AttemptTrigger, 'test'>;
    /** A single attempt (a redelivery or recovery of an ended notification): never retried. */
    oneShot: boolean;
    recoveryId: string | null;
  };

export type EndedDelivery = Recorded & Notified & { status: 'delivered' | 'failed' | 'dropped'; attempts: number };

export type DeliveryState = { status: 'absent' } | PendingDelivery | EndedDelivery;

export type ScheduleDelivery = {
  type: 'ScheduleDelivery';
  deliveryId: string;
  workerId: string;
  taskId: string;
  taskPosition: number;
  webhookGeneration: number;
  now: string;
};

/** What one send saw, as the sender reports it (shared by every kind of attempt). */
export type SendOutcome = {
  /** Minted per send: recording the same send twice records it once. */
  executionId: string;
  startedAt: string;
  durationMs: number;
  url: string;
  /** The HTTP status when a response arrived (also 3xx and errors), `null` when none did. */
  responseStatus: number | null;
  /** Why no usable response arrived (timeout, refused, blocked, redirect…); `null` when it did. */
  transportError: string | null;
  /** What a 429 or 503 asked for with Retry-After, in ms from the response (`null`: nothing). */
  retryAfterMs: number | null;
  userAgent: string;
};

/** The outcome of one send of a scheduled attempt. */
export type RecordDelivery = SendOutcome & {
  type: 'RecordDelivery';
  deliveryId: string;
  /** The attempt the send was claimed as. */
  attempt: number;
  /** When the claimed attempt was due. */
  dueAt: string;
  taskId: string | null;
  taskTitle: string | null;
  /** Delays between attempts, from configuration; the decision is recorded in the event. */
  retryScheduleMs: readonly number[];
  /** A random number in [0, 1), from the caller: the jitter of the next delay (SPEC §8.6). */
  jitter: number;
  now: string;
};

/** A test notification's one send (SPEC §8.2): a delivery of its own, never retried. */
export type RecordTestAttempt = SendOutcome & { type: 'RecordTestAttempt'; deliveryId: string; workerId: string; webhookGeneration: number };

/** One more attempt of a notification, asked for by an operator (SPEC §8.3, §8.4). */
export type ResendDelivery = {
  type: 'ResendDelivery';
  deliveryId: string;
  trigger: 'redeliver' | 'recover';
  recoveryId: string | null;
  /** The webhook as it is now: the attempt goes to its current URL with its current secrets. */
  webhookGeneration: number;
  now: string;
};

/** `dueAt`: where the queue holds it, when the caller knows (an enable or a removal moves rows the stream does not). */
export type DropDelivery = { type: 'DropDelivery'; deliveryId: string; dueAt?: string; now: string };
export type DeliveryCommand = ScheduleDelivery | RecordDelivery | RecordTestAttempt | ResendDelivery | DropDelivery;

const HTTP_GONE = 410;
const isSuccess = (status: number | null): boolean => status !== null && status >= 200 && status <= 299;
const requestStatusOf = (send: SendOutcome): RequestStatus => (isSuccess(send.responseStatus) && send.transportError === null ? 'success' : 'error');

/** SPEC §3: `null` on success, else a short human reason. */
function errorMessageOf(send: SendOutcome): string | null {
  if (requestStatusOf(send) === 'success') return null;
  return send.transportError ?? `HTTP ${send.responseStatus}`;
}

/** What this attempt decides for the delivery: delivered, stopped by a 410, retried after the next delay, or out of retries. */
function decideAttempt(command: RecordDelivery, state: PendingDelivery, requestStatus: RequestStatus): { result: AttemptResult; nextAttemptAt: string | null } {
  if (requestStatus === 'success') return { result: 'delivered', nextAttemptAt: null };
  if (state.oneShot) return { result: 'failed', nextAttemptAt: null };
  if (command.responseStatus === HTTP_GONE) return { result: 'gone', nextAttemptAt: null };
  const retryAfterMs = command.responseStatus === 429 || command.responseStatus === 503 ? command.retryAfterMs : null;
  const delay = nextDelayMs(command.retryScheduleMs, command.attempt, { jitter: command.jitter, retryAfterMs });
  if (delay === undefined) return { result: 'exhausted', nextAttemptAt: null };
  return { result: 'retry', nextAttemptAt: new Date(Date.parse(command.now) + delay).toISOString() };
}

/**
 * An attempt event's fields up to `nextAttemptAt`, in the order its JSON is
 * stored; the caller adds the rest. Built as one literal, without spreads:
 * the recording path runs it for every attempt (spreads cost it ≈1.5 µs).
 */
function attemptData(
  send: SendOutcome,
  head: Pick<DeliveryAttempted['data'], 'deliveryId' | 'workerId' | 'attempt' | 'taskId' | 'taskTitle' | 'dueAt' | 'nextAttemptAt'>,
): DeliveryAttempted['data'] {
  return {
    deliveryId: head.deliveryId,
    workerId: head.workerId,
    attempt: head.attempt,
    executionId: send.executionId,
    startedAt: send.startedAt,
    durationMs: Math.max(0, Math.round(send.durationMs)),
    url: send.url,
    requestStatus: requestStatusOf(send),
    responseStatus: send.responseStatus,
    errorMessage: errorMessageOf(send),
    userAgent: send.userAgent,
    taskId: head.taskId,
    taskTitle: head.taskTitle,
    dueAt: head.dueAt,
    nextAttemptAt: head.nextAttemptAt,
  };
}

const notFound = (deliveryId: string) => new DomainError('not_found', 'delivery_not_found', `delivery ${deliveryId} not found`);
const ENDED_IN_FAILURE: readonly AttemptResult[] = ['gone', 'exhausted', 'failed'];

/**
 * One notification of one task completion and its attempts (SPEC §5, §8).
 * The decider alone decides what an attempt means (delivered, 410, retry
 * when — after the schedule's delay with jitter, or what the receiver's
 * Retry-After asked —, out of retries), and records it in the event, so
 * callers read the decision instead of making it again.
 *
 * Every send is an execution. A send of an attempt that another process has
 * already recorded (its claim lapsed and the attempt was claimed again) is
 * recorded as `superseded`: it is logged, and changes nothing of the
 * schedule. Recording the same send twice (same execution id) records it once.
 *
 * An operator may ask for one more attempt: of an ended notification it is
 * a single attempt (`oneShot`), of a pending one it brings the pending
 * attempt forward. A recovery resends only notifications that ended in failure.
 */
export const deliveryDecider: Decider<DeliveryState, DeliveryCommand, DeliveryEvent> = {
  initialState: () => ({ status: 'absent' }),

  decide(command, state) {
    switch (command.type) {
      case 'ScheduleDelivery': {
        if (state.status !== 'absent') return [];
        const { deliveryId, workerId, taskId, taskPosition, webhookGeneration, now } = command;
        return [{ type: 'DeliveryScheduled', data: { deliveryId, workerId, taskId, taskPosition, webhookGeneration, dueAt: now, scheduledAt: now } }];
      }
      case 'RecordDelivery':
        return recordDelivery(command, state);
      case 'RecordTestAttempt': {
        if (state.status !== 'absent') return [];
        const data = attemptData(command, { deliveryId: command.deliveryId, workerId: command.workerId, attempt: 1, taskId: null, taskTitle: null, dueAt: command.startedAt, nextAttemptAt: null });
        const success = data.requestStatus === 'success';
        data.result = success ? 'delivered' : 'failed';
        data.trigger = 'test';
        if (!success) data.firstAttemptedAt = command.startedAt;
        return [{ type: 'DeliveryAttempted', data }];
      }
      case 'ResendDelivery': {
        if (state.status === 'absent') throw notFound(command.deliveryId);
        // A recovery resends what ended in failure, and only that.
        if (command.trigger === 'recover' && state.status !== 'failed') return [];
        const { deliveryId, trigger, webhookGeneration, now } = command;
        const common = {
          deliveryId,
          workerId: state.workerId,
          trigger,
          ...(command.recoveryId !== null ? { recoveryId: command.recoveryId } : {}),
          webhookGeneration,
          dueAt: now,
          taskId: state.taskId,
          ...(state.taskPosition !== null ? { taskPosition: state.taskPosition } : {}),
          ...(state.firstAttemptedAt !== null ? { firstAttemptedAt: state.firstAttemptedAt } : {}),
          requestedAt: now,
        };
        if (state.status === 'pending') {
          return [{ type: 'DeliveryResent', data: { ...common, attempt: state.nextAttempt, oneShot: state.oneShot, previousDueAt: state.dueAt } }];
        }
        return [{ type: 'DeliveryResent', data: { ...common, attempt: state.attempts + 1, oneShot: true } }];
      }
      case 'DropDelivery':
        if (state.status !== 'pending') return [];
        return [
          {
            type: 'DeliveryDropped',
            data: { deliveryId: command.deliveryId, workerId: state.workerId, reason: 'webhook_removed', dueAt: command.dueAt ?? state.dueAt, droppedAt: command.now },
          },
        ];
    }
  },

  evolve(state, event) {
    switch (event.type) {
      case 'DeliveryScheduled':
        return {
          status: 'pending',
          workerId: event.data.workerId,
          taskId: event.data.taskId,
          taskPosition: event.data.taskPosition ?? null,
          webhookGeneration: event.data.webhookGeneration,
          firstAttemptedAt: null,
          nextAttempt: 1,
          dueAt: event.data.dueAt,
          trigger: 'delivery',
          oneShot: false,
          recoveryId: null,
          executions: [],
        };
      case 'DeliveryAttempted':
        return afterAttempt(state, event.data);
      case 'DeliveryResent': {
        if (state.status === 'absent') return state;
        const d = event.data;
        return {
          status: 'pending',
          workerId: state.workerId,
          taskId: state.taskId,
          taskPosition: state.taskPosition,
          webhookGeneration: d.webhookGeneration,
          firstAttemptedAt: state.firstAttemptedAt,
          nextAttempt: d.attempt,
          dueAt: d.dueAt,
          trigger: d.trigger,
          oneShot: d.oneShot,
          recoveryId: d.recoveryId ?? null,
          executions: state.executions,
        };
      }
      case 'DeliveryDropped':
        return state.status === 'pending' ? { ...notifiedOf(state), status: 'dropped', attempts: state.nextAttempt - 1, executions: state.executions } : state;
    }
  },
};

const notifiedOf = (state: Notified): Notified => ({
  workerId: state.workerId,
  taskId: state.taskId,
  taskPosition: state.taskPosition,
  webhookGeneration: state.webhookGeneration,
  firstAttemptedAt: state.firstAttemptedAt,
});

function recordDelivery(command: RecordDelivery, state: DeliveryState): DeliveryEvent[] {
  if (state.status === 'absent') throw notFound(command.deliveryId);
  if (state.executions.includes(command.executionId)) return [];
  if (state.status === 'pending' && command.attempt > state.nextAttempt) {
    throw new DomainError('conflict', 'attempt_out_of_order', `attempt ${command.attempt} of ${command.deliveryId} recorded before attempt ${state.nextAttempt}`);
  }
  const requestStatus = requestStatusOf(command);
  const pending = state.status === 'pending' ? state : null;
  const current = pending !== null && command.attempt === pending.nextAttempt;
  let result: AttemptResult;
  let nextAttemptAt: string | null;
  let nextAttempt: number | undefined;
  if (current) {
    ({ result, nextAttemptAt } = decideAttempt(command, pending, requestStatus));
    nextAttempt = command.attempt + 1;
  } else {
    result = 'superseded';
    nextAttemptAt = pending ? pending.dueAt : null;
    nextAttempt = pending ? pending.nextAttempt : undefined;
  }
  const data = attemptData(command, {
    deliveryId: command.deliveryId,
    workerId: state.workerId,
    attempt: command.attempt,
    taskId: command.taskId,
    taskTitle: command.taskTitle,
    dueAt: command.dueAt,
    nextAttemptAt,
  });
  if (nextAttemptAt !== null && nextAttempt !== undefined) data.nextAttempt = nextAttempt;
  data.result = result;
  data.trigger = current ? pending.trigger : command.attempt === 1 ? 'delivery' : 'retry';
  if (current && pending.recoveryId) data.recoveryId = pending.recoveryId;
  if (ENDED_IN_FAILURE.includes(result)) data.firstAttemptedAt = state.firstAttemptedAt ?? command.startedAt;
  return [{ type: 'DeliveryAttempted', data }];
}

function afterAttempt(state: DeliveryState, d: DeliveryAttempted['data']): DeliveryState {
  if (state.status === 'absent') {
    // A test notification: its one attempt is the whole delivery.
    if (d.trigger !== 'test') return state;
    return {
      status: d.requestStatus === 'success' ? 'delivered' : 'failed',
      workerId: d.workerId,
      taskId: null,
      taskPosition: null,
      webhookGeneration: 0,
      firstAttemptedAt: d.startedAt,
      attempts: 1,
      executions: [d.executionId],
    };
  }
  const executions = [...state.executions, d.executionId];
  if (state.status !== 'pending' || d.result === 'superseded') return { ...state, executions };
  const firstAttemptedAt = state.firstAttemptedAt ?? d.startedAt;
  if (d.nextAttemptAt !== null) {
    return { ...state, executions, firstAttemptedAt, nextAttempt: d.nextAttempt ?? d.attempt + 1, dueAt: d.nextAttemptAt, trigger: 'retry', recoveryId: null };
  }
  return { ...notifiedOf(state), firstAttemptedAt, status: d.requestStatus === 'success' ? 'delivered' : 'failed', attempts: d.attempt, executions };
}
