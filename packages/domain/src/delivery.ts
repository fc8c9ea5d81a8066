import type { AttemptResult, DeliveryEvent, RequestStatus } from '@handinger-webhooks/contracts';
import { DomainError, type Decider } from './decider.js';

/** The attempts recorded so far (their execution ids): recording one again changes nothing. */
type Recorded = { executions: readonly string[] };

export type PendingDelivery = Recorded & {
  status: 'pending';
  workerId: string;
  taskId: string;
  /** Global position of the completion (null for deliveries opened before it was recorded). */
  taskPosition: number | null;
  webhookGeneration: number;
  nextAttempt: number;
  dueAt: string;
};

export type DeliveryState =
  | { status: 'absent' }
  | PendingDelivery
  | (Recorded & { status: 'delivered' | 'failed' | 'dropped'; workerId: string; attempts: number });

export type ScheduleDelivery = {
  type: 'ScheduleDelivery';
  deliveryId: string;
  workerId: string;
  taskId: string;
  taskPosition: number;
  webhookGeneration: number;
  now: string;
};

/** The outcome of one send, as the sender saw it. */
export type RecordDelivery = {
  type: 'RecordDelivery';
  deliveryId: string;
  /** The attempt the send was claimed as. */
  attempt: number;
  /** Minted per send: recording the same send twice records it once. */
  executionId: string;
  /** When the claimed attempt was due. */
  dueAt: string;
  startedAt: string;
  durationMs: number;
  url: string;
  /** The HTTP status when a response arrived (also 3xx and errors), `null` when none did. */
  responseStatus: number | null;
  /** Why no usable response arrived (timeout, refused, blocked, redirect…); `null` when it did. */
  transportError: string | null;
  taskId: string | null;
  taskTitle: string | null;
  /** Delays between attempts, from configuration; the decision is recorded in the event. */
  retryScheduleMs: readonly number[];
  now: string;
};

export type DropDelivery = { type: 'DropDelivery'; deliveryId: string; now: string };
export type DeliveryCommand = ScheduleDelivery | RecordDelivery | DropDelivery;

const HTTP_GONE = 410;
const isSuccess = (status: number | null): boolean => status !== null && status >= 200 && status <= 299;

/** SPEC §3: `null` on success, else a short human reason. */
function errorMessageOf(command: RecordDelivery): string | null {
  if (isSuccess(command.responseStatus) && command.transportError === null) return null;
  return command.transportError ?? `HTTP ${command.responseStatus}`;
}

/** What this attempt decides for the delivery: delivered, stopped by a 410, retried after the next delay, or out of retries. */
function decideAttempt(command: RecordDelivery, requestStatus: RequestStatus): { result: AttemptResult; nextAttemptAt: string | null } {
  if (requestStatus === 'success') return { result: 'delivered', nextAttemptAt: null };
  if (command.responseStatus === HTTP_GONE) return { result: 'gone', nextAttemptAt: null };
  const delay = command.retryScheduleMs[command.attempt - 1];
  if (delay === undefined) return { result: 'exhausted', nextAttemptAt: null };
  return { result: 'retry', nextAttemptAt: new Date(Date.parse(command.now) + delay).toISOString() };
}

const notFound = (deliveryId: string) => new DomainError('not_found', 'delivery_not_found', `delivery ${deliveryId} not found`);

/**
 * One notification of one task completion and its attempts (SPEC §5). The
 * decider alone decides what an attempt means (delivered, 410, retry when,
 * out of retries), and records it in the event, so callers read the
 * decision instead of making it again.
 *
 * Every send is an execution. A send of an attempt that another process has
 * already recorded (its lease lapsed and the attempt was claimed again) is
 * recorded as `superseded`: it is logged, and changes nothing of the
 * schedule. Recording the same send twice (same execution id) records it once.
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
      case 'RecordDelivery': {
        if (state.status === 'absent') throw notFound(command.deliveryId);
        if (state.executions.includes(command.executionId)) return [];
        if (state.status === 'pending' && command.attempt > state.nextAttempt) {
          throw new DomainError('conflict', 'attempt_out_of_order', `attempt ${command.attempt} of ${command.deliveryId} recorded before attempt ${state.nextAttempt}`);
        }
        const requestStatus: RequestStatus = isSuccess(command.responseStatus) && command.transportError === null ? 'success' : 'error';
        const current = state.status === 'pending' && command.attempt === state.nextAttempt;
        const decision = current
          ? { ...decideAttempt(command, requestStatus), nextAttempt: command.attempt + 1 }
          : state.status === 'pending'
            ? { result: 'superseded' as const, nextAttemptAt: state.dueAt, nextAttempt: state.nextAttempt }
            : { result: 'superseded' as const, nextAttemptAt: null, nextAttempt: undefined };
        return [
          {
            type: 'DeliveryAttempted',
            data: {
              deliveryId: command.deliveryId,
              workerId: state.workerId,
              attempt: command.attempt,
              executionId: command.executionId,
              startedAt: command.startedAt,
              durationMs: Math.max(0, Math.round(command.durationMs)),
              url: command.url,
              requestStatus,
              responseStatus: command.responseStatus,
              errorMessage: errorMessageOf(command),
              taskId: command.taskId,
              taskTitle: command.taskTitle,
              dueAt: command.dueAt,
              nextAttemptAt: decision.nextAttemptAt,
              ...(decision.nextAttemptAt !== null && decision.nextAttempt !== undefined ? { nextAttempt: decision.nextAttempt } : {}),
              result: decision.result,
            },
          },
        ];
      }
      case 'DropDelivery':
        if (state.status !== 'pending') return [];
        return [
          {
            type: 'DeliveryDropped',
            data: { deliveryId: command.deliveryId, workerId: state.workerId, reason: 'webhook_removed', dueAt: state.dueAt, droppedAt: command.now },
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
          nextAttempt: 1,
          dueAt: event.data.dueAt,
          executions: [],
        };
      case 'DeliveryAttempted': {
        if (state.status === 'absent') return state;
        const executions = [...state.executions, event.data.executionId];
        if (state.status !== 'pending' || event.data.result === 'superseded') return { ...state, executions };
        if (event.data.nextAttemptAt !== null) {
          return { ...state, executions, nextAttempt: event.data.nextAttempt ?? event.data.attempt + 1, dueAt: event.data.nextAttemptAt };
        }
        const delivered = event.data.requestStatus === 'success';
        return { status: delivered ? 'delivered' : 'failed', workerId: state.workerId, attempts: event.data.attempt, executions };
      }
      case 'DeliveryDropped':
        return state.status === 'pending' ? { status: 'dropped', workerId: state.workerId, attempts: state.nextAttempt - 1, executions: state.executions } : state;
    }
  },
};
