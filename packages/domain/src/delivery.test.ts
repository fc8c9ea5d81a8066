import { describe, it } from 'vitest';
import type { DeliveryAttempted, DeliveryScheduled } from '@handinger-webhooks/contracts';
import { deliveryDecider, type RecordDelivery } from './delivery.js';
import { deciderSpecification } from './testing/decider-specification.js';

const spec = deciderSpecification(deliveryDecider);
const deliveryId = 'msg_01HZY2ZJQ8G7K42W2D7WF6V4GM';
const workerId = 't_org_1_w_01HZY2ZJQ8G7K42W2D7WF6V4GM';
const t0 = '2026-01-01T00:00:00.000Z';
const scheduled: DeliveryScheduled = {
  type: 'DeliveryScheduled',
  data: { deliveryId, workerId, taskId: 'task_1', webhookGeneration: 7, dueAt: t0, scheduledAt: t0 },
};
const attempt = (n: number, over: Partial<RecordDelivery> = {}): RecordDelivery => ({
  type: 'RecordDelivery',
  deliveryId,
  attempt: n,
  executionId: `whe_0000000000000000000000000${n}`,
  startedAt: t0,
  durationMs: 12.4,
  url: 'https://a.example/hook',
  responseStatus: 500,
  transportError: null,
  taskId: 'task_1',
  taskTitle: 'Check',
  retryScheduleMs: [1_000, 2_000],
  now: '2026-01-01T00:00:01.000Z',
  ...over,
});
const attempted = (n: number, over: Partial<DeliveryAttempted['data']> = {}): DeliveryAttempted => ({
  type: 'DeliveryAttempted',
  data: {
    deliveryId,
    workerId,
    attempt: n,
    executionId: `whe_0000000000000000000000000${n}`,
    startedAt: t0,
    durationMs: 12,
    url: 'https://a.example/hook',
    requestStatus: 'error',
    responseStatus: 500,
    errorMessage: 'HTTP 500',
    taskId: 'task_1',
    taskTitle: 'Check',
    dueAt: n === 1 ? t0 : n === 2 ? '2026-01-01T00:00:02.000Z' : '2026-01-01T00:00:05.000Z',
    nextAttemptAt: '2026-01-01T00:00:02.000Z',
    ...over,
  },
});

describe('delivery decider', () => {
  describe('ScheduleDelivery', () => {
    const schedule = { type: 'ScheduleDelivery' as const, deliveryId, workerId, taskId: 'task_1', webhookGeneration: 7, now: t0 };

    it('schedules the first attempt now', () => {
      spec.given([]).when(schedule).then([scheduled]);
    });

    it('is idempotent', () => {
      spec.given([scheduled]).when(schedule).thenNothingHappens();
    });
  });

  describe('RecordDelivery', () => {
    it('records a 2xx as a success and ends the delivery', () => {
      spec
        .given([scheduled])
        .when(attempt(1, { responseStatus: 204 }))
        .then([attempted(1, { requestStatus: 'success', responseStatus: 204, errorMessage: null, nextAttemptAt: null })]);
    });

    it('schedules a retry after a failure, by the schedule, from now', () => {
      spec.given([scheduled]).when(attempt(1)).then([attempted(1)]);
    });

    it('uses the next delay for the next attempt', () => {
      spec
        .given([scheduled, attempted(1)])
        .when(attempt(2, { now: '2026-01-01T00:00:03.000Z' }))
        .then([attempted(2, { nextAttemptAt: '2026-01-01T00:00:05.000Z' })]);
    });

    it('stops after the last delay (N delays: N + 1 attempts)', () => {
      spec
        .given([scheduled, attempted(1), attempted(2, { nextAttemptAt: '2026-01-01T00:00:05.000Z' })])
        .when(attempt(3))
        .then([attempted(3, { nextAttemptAt: null })]);
    });

    it('stops on HTTP 410', () => {
      spec
        .given([scheduled])
        .when(attempt(1, { responseStatus: 410 }))
        .then([attempted(1, { responseStatus: 410, errorMessage: 'HTTP 410', nextAttemptAt: null })]);
    });

    it('keeps the transport error and a null status when nothing answered', () => {
      spec
        .given([scheduled])
        .when(attempt(1, { responseStatus: null, transportError: 'timeout after 10000 ms' }))
        .then([attempted(1, { responseStatus: null, errorMessage: 'timeout after 10000 ms' })]);
    });

    it('records a redirect with its status as an error', () => {
      spec
        .given([scheduled])
        .when(attempt(1, { responseStatus: 302, transportError: 'redirect not followed (HTTP 302)' }))
        .then([attempted(1, { responseStatus: 302, errorMessage: 'redirect not followed (HTTP 302)' })]);
    });

    it('never records the same attempt twice', () => {
      spec.given([scheduled, attempted(1)]).when(attempt(1)).thenNothingHappens();
    });

    it('records nothing after the delivery ended', () => {
      spec
        .given([scheduled, attempted(1, { requestStatus: 'success', responseStatus: 200, errorMessage: null, nextAttemptAt: null })])
        .when(attempt(2))
        .thenNothingHappens();
    });

    it('rejects an attempt from the future', () => {
      spec.given([scheduled]).when(attempt(2)).thenThrows('attempt_out_of_order');
    });

    it('rejects an attempt of an unknown delivery', () => {
      spec.given([]).when(attempt(1)).thenThrows('delivery_not_found');
    });
  });

  describe('DropDelivery', () => {
    const drop = { type: 'DropDelivery' as const, deliveryId, now: t0 };

    it('drops a pending delivery', () => {
      spec
        .given([scheduled, attempted(1)])
        .when(drop)
        .then([
          {
            type: 'DeliveryDropped',
            data: { deliveryId, workerId, reason: 'webhook_removed', dueAt: '2026-01-01T00:00:02.000Z', droppedAt: t0 },
          },
        ]);
    });

    it('appends nothing for a finished delivery', () => {
      spec.given([scheduled, attempted(1, { nextAttemptAt: null })]).when(drop).thenNothingHappens();
    });
  });
});
