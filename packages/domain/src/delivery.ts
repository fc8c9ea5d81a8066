import type { DeliveryEvent, RequestStatus } from '@handinger-webhooks/contracts';
import { DomainError, type Decider } from './decider.js';

export type DeliveryState =
  | { status: 'absent' }
  | { status: 'pending'; workerId: string; taskId: string; webhookGeneration: number; nextAttempt: number; dueAt: string }
  | { status: 'delivered' | 'failed' | 'dropped'; attempts: number };

export type ScheduleDelivery = {
  type: 'ScheduleDelivery';
  deliveryId: string;
  workerId: string;
  taskId: string;
  webhookGeneration: number;
  now: string;
};

/** The outcome of one attempt, as the sender saw it. */
export type RecordDelivery = {
  type: 'RecordDelivery';
  deliveryId: string;
  attempt: number;
  executionId: string;
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

/** When the next attempt is due, or `null` when this one ends the delivery (success, 410, or out of retries). */
function nextAttemptAt(command: RecordDelivery, requestStatus: RequestStatus): string | null {
  if (requestStatus === 'success' || command.responseStatus === HTTP_GONE) return null;
  const delay = command.retryScheduleMs[command.attempt - 1];
  if (delay === undefined) return null;
  return new Date(Date.parse(command.now) + delay).toISOString();
}

/**
 * One notification of one task completion and its attempts (SPEC §5).
 * Recording is idempotent per attempt number, so an attempt retried after a
 * crash (its lease expired) is never recorded twice.
 */
export const deliveryDecider: Decider<DeliveryState, DeliveryCommand, DeliveryEvent> = {
  initialState: () => ({ status: 'absent' }),

  decide(command, state) {
    switch (command.type) {
      case 'ScheduleDelivery': {
        if (state.status !== 'absent') return [];
        const { deliveryId, workerId, taskId, webhookGeneration, now } = command;
        return [
          { type: 'DeliveryScheduled', data: { deliveryId, workerId, taskId, webhookGeneration, dueAt: now, scheduledAt: now } },
        ];
      }
      case 'RecordDelivery': {
        if (state.status === 'absent') {
          throw new DomainError('not_found', 'delivery_not_found', `delivery ${command.deliveryId} not found`);
        }
        if (state.status !== 'pending' || command.attempt < state.nextAttempt) return [];
        if (command.attempt > state.nextAttempt) {
          throw new DomainError(
            'conflict',
            'attempt_out_of_order',
            `attempt ${command.attempt} of ${command.deliveryId} recorded before attempt ${state.nextAttempt}`,
          );
        }
        const requestStatus: RequestStatus =
          isSuccess(command.responseStatus) && command.transportError === null ? 'success' : 'error';
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
              dueAt: state.dueAt,
              nextAttemptAt: nextAttemptAt(command, requestStatus),
            },
          },
        ];
      }
      case 'DropDelivery':
        if (state.status !== 'pending') return [];
        return [
          {
            type: 'DeliveryDropped',
            data: {
              deliveryId: command.deliveryId,
              workerId: state.workerId,
              reason: 'webhook_removed',
              dueAt: state.dueAt,
              droppedAt: command.now,
            },
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
          webhookGeneration: event.data.webhookGeneration,
          nextAttempt: 1,
          dueAt: event.data.dueAt,
        };
      case 'DeliveryAttempted': {
        if (state.status !== 'pending') return state;
        if (event.data.nextAttemptAt !== null) {
          return { ...state, nextAttempt: event.data.attempt + 1, dueAt: event.data.nextAttemptAt };
        }
        return { status: event.data.requestStatus === 'success' ? 'delivered' : 'failed', attempts: event.data.attempt };
      }
      case 'DeliveryDropped':
        return state.status === 'pending' ? { status: 'dropped', attempts: state.nextAttempt - 1 } : state;
    }
  },
};
