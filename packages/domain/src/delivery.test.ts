import { describe, it } from 'vitest';
import type { DeliveryAttempted, DeliveryScheduled } from '@handinger-webhooks/contracts';
import { deliveryDecider, type RecordDelivery } from './delivery.js';
import { deciderSpecification } from './testing/decider-specification.js';

const spec = deciderSpecification(deliveryDecider);
const deliveryId = 'msg_01HZY2ZJQ8G7K42W2D7WF6V4GM';
const workerId = 't_org_1_w_01HZY2ZJQ8G7K42W2D7WF6V4GM';
const t0 = '2026-01-01T00:00:00.000Z';
const t2 = '2026-01-01T00:00:02.000Z';
const t5 = '2026-01-01T00:00:05.000Z';
const scheduled: DeliveryScheduled = {
  type: 'DeliveryScheduled',
  data: { deliveryId, workerId, taskId: 'task_1', taskPosition: 41, webhookGeneration: 7, dueAt: t0, scheduledAt: t0 },
};
const dueOf = (n: number) => (n === 1 ? t0 : n === 2 ? t2 : t5);
const attempt = (n: number, over: Partial<RecordDelivery> = {}): RecordDelivery => ({
  type: 'RecordDelivery',
  deliveryId,
  attempt: n,
  executionId: `whe_0000000000000000000000000${n}`,
  dueAt: dueOf(n),
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
    dueAt: dueOf(n),
    nextAttemptAt: t2,
    nextAttempt: n + 1,
    result: 'retry',
    ...over,
  },
});
/** An attempt that ended the delivery: no next attempt. */
const final = (n: number, over: Partial<DeliveryAttempted['data']>): DeliveryAttempted => {
  const event = attempted(n, { nextAttemptAt: null, ...over });
  delete event.data.nextAttempt;
  return event;
};

describe('delivery decider', () => {
  describe('ScheduleDelivery', () => {
    const schedule = { type: 'ScheduleDelivery' as const, deliveryId, workerId, taskId: 'task_1', taskPosition: 41, webhookGeneration: 7, now: t0 };

    it('schedules the first attempt now, pointing at the completion', () => {
      spec.given([]).when(schedule).then([scheduled]);
    });

    it('is idempotent', () => {
      spec.given([scheduled]).when(schedule).thenNothingHappens();
    });
  });

  describe('RecordDelivery: the decision is recorded in the event', () => {
    it('a 2xx is delivered and ends the delivery', () => {
      spec
        .given([scheduled])
        .when(attempt(1, { responseStatus: 204 }))
        .then([final(1, { requestStatus: 'success', responseStatus: 204, errorMessage: null, result: 'delivered' })]);
    });

    it('a failure schedules a retry after the first delay, from now', () => {
      spec.given([scheduled]).when(attempt(1)).then([attempted(1)]);
    });

    it('uses the next delay for the next attempt', () => {
      spec
        .given([scheduled, attempted(1)])
        .when(attempt(2, { now: '2026-01-01T00:00:03.000Z' }))
        .then([attempted(2, { nextAttemptAt: t5 })]);
    });

    it('is exhausted after the last delay (N delays: N + 1 attempts)', () => {
      spec
        .given([scheduled, attempted(1), attempted(2, { nextAttemptAt: t5 })])
        .when(attempt(3))
        .then([final(3, { result: 'exhausted' })]);
    });

    it('stops on HTTP 410', () => {
      spec
        .given([scheduled])
        .when(attempt(1, { responseStatus: 410 }))
        .then([final(1, { responseStatus: 410, errorMessage: 'HTTP 410', result: 'gone' })]);
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

    it('records the same send once (same execution id)', () => {
      spec.given([scheduled, attempted(1)]).when(attempt(1)).thenNothingHappens();
    });

    it('a second send of an attempt already recorded is superseded: logged, the schedule unchanged', () => {
      spec
        .given([scheduled, attempted(1)])
        .when(attempt(1, { executionId: 'whe_0000000000000000000000000X', responseStatus: 200 }))
        .then([
          attempted(1, {
            executionId: 'whe_0000000000000000000000000X',
            requestStatus: 'success',
            responseStatus: 200,
            errorMessage: null,
            nextAttemptAt: t2,
            nextAttempt: 2,
            result: 'superseded',
          }),
        ]);
    });

    it('a late send after the delivery ended is superseded too, with no next attempt', () => {
      const delivered = final(1, { requestStatus: 'success', responseStatus: 200, errorMessage: null, result: 'delivered' });
      const late = final(1, { executionId: 'whe_0000000000000000000000000Y', result: 'superseded' });
      spec.given([scheduled, delivered]).when(attempt(1, { executionId: 'whe_0000000000000000000000000Y' })).then([late]);
      // …and it changes nothing: the delivery stays delivered.
      spec.given([scheduled, delivered, late]).when(attempt(2, { executionId: 'whe_0000000000000000000000000Z' })).then([final(2, { executionId: 'whe_0000000000000000000000000Z', result: 'superseded' })]);
    });

    it('rejects an attempt from the future', () => {
      spec.given([scheduled]).when(attempt(2)).thenThrows('attempt_out_of_order');
    });

    it('rejects an attempt of an unknown delivery', () => {
      spec.given([]).when(attempt(1)).thenThrows('delivery_not_found');
    });

    it('reads events recorded before decisions were (no result, no next attempt number)', () => {
      const legacy = attempted(1);
      delete legacy.data.result;
      delete legacy.data.nextAttempt;
      spec.given([scheduled, legacy]).when(attempt(2)).then([attempted(2, { nextAttemptAt: '2026-01-01T00:00:03.000Z' })]);
    });
  });

  describe('DropDelivery', () => {
    const drop = { type: 'DropDelivery' as const, deliveryId, now: t0 };

    it('drops a pending delivery', () => {
      spec
        .given([scheduled, attempted(1)])
        .when(drop)
        .then([{ type: 'DeliveryDropped', data: { deliveryId, workerId, reason: 'webhook_removed', dueAt: t2, droppedAt: t0 } }]);
    });

    it('appends nothing for a finished delivery', () => {
      spec.given([scheduled, final(1, { result: 'exhausted' })]).when(drop).thenNothingHappens();
    });
  });
});
