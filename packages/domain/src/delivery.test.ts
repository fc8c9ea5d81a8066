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
  retryAfterMs: null,
  jitter: 0,
  userAgent: 'Handinger-Webhooks/test',
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
    userAgent: 'Handinger-Webhooks/test',
    trigger: n === 1 ? 'delivery' : 'retry',
    ...over,
  },
});
/** An attempt that ended the delivery: no next attempt. */
const final = (n: number, over: Partial<DeliveryAttempted['data']>): DeliveryAttempted => {
  const endsInFailure = over.result === 'gone' || over.result === 'exhausted' || over.result === 'failed';
  const event = attempted(n, { nextAttemptAt: null, ...(endsInFailure ? { firstAttemptedAt: t0 } : {}), ...over });
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

  describe('RecordDelivery: retries that listen to the receiver (SPEC §8.6)', () => {
    it('extends the scheduled delay by the jitter, up to 10 %, never shortens it', () => {
      spec.given([scheduled]).when(attempt(1, { jitter: 0.5 })).then([attempted(1, { nextAttemptAt: '2026-01-01T00:00:02.050Z' })]);
      spec.given([scheduled]).when(attempt(1, { jitter: 0.999 })).then([attempted(1, { nextAttemptAt: '2026-01-01T00:00:02.100Z' })]);
    });

    it('waits as long as a 429 or 503 asked with Retry-After, never beyond the longest delay of the schedule', () => {
      spec.given([scheduled]).when(attempt(1, { responseStatus: 429, retryAfterMs: 1_500 })).then([attempted(1, { responseStatus: 429, errorMessage: 'HTTP 429', nextAttemptAt: '2026-01-01T00:00:02.500Z' })]);
      spec.given([scheduled]).when(attempt(1, { responseStatus: 503, retryAfterMs: 60_000 })).then([attempted(1, { responseStatus: 503, errorMessage: 'HTTP 503', nextAttemptAt: '2026-01-01T00:00:03.000Z' })]);
      // Shorter than the schedule: the schedule wins.
      spec.given([scheduled]).when(attempt(1, { responseStatus: 503, retryAfterMs: 10 })).then([attempted(1, { responseStatus: 503, errorMessage: 'HTTP 503', nextAttemptAt: t2 })]);
    });

    it('ignores Retry-After on other statuses, and keeps the number of attempts', () => {
      spec.given([scheduled]).when(attempt(1, { responseStatus: 500, retryAfterMs: 1_500 })).then([attempted(1)]);
      spec.given([scheduled, attempted(1), attempted(2, { nextAttemptAt: t5 })]).when(attempt(3, { responseStatus: 429, retryAfterMs: 1_000 })).then([final(3, { responseStatus: 429, errorMessage: 'HTTP 429', result: 'exhausted' })]);
    });
  });

  describe('ResendDelivery (SPEC §8.3, §8.4)', () => {
    const t9 = '2026-01-01T00:00:09.000Z';
    const exhausted = final(3, { result: 'exhausted' });
    const history = [scheduled, attempted(1), attempted(2, { nextAttemptAt: t5 }), exhausted];
    const resend = (over: Partial<{ trigger: 'redeliver' | 'recover'; recoveryId: string | null }> = {}) => ({
      type: 'ResendDelivery' as const,
      deliveryId,
      trigger: 'redeliver' as const,
      recoveryId: null,
      webhookGeneration: 9,
      now: t9,
      ...over,
    });
    const resent = {
      type: 'DeliveryResent' as const,
      data: { deliveryId, workerId, trigger: 'redeliver' as const, attempt: 4, oneShot: true, webhookGeneration: 9, dueAt: t9, taskId: 'task_1', taskPosition: 41, firstAttemptedAt: t0, requestedAt: t9 },
    };

    it('opens one more attempt of an ended notification, under the current webhook', () => {
      spec.given(history).when(resend()).then([resent]);
      const delivered = final(1, { requestStatus: 'success', responseStatus: 200, errorMessage: null, result: 'delivered' });
      spec.given([scheduled, delivered]).when(resend()).then([{ ...resent, data: { ...resent.data, attempt: 2 } }]);
    });

    it('that attempt is never retried: a failure ends it, with its trigger', () => {
      spec
        .given([...history, resent])
        .when(attempt(4, { dueAt: t9 }))
        .then([final(4, { dueAt: t9, result: 'failed', trigger: 'redeliver' })]);
    });

    it('brings a pending attempt forward instead of sending twice', () => {
      spec
        .given([scheduled, attempted(1)])
        .when(resend())
        .then([{ type: 'DeliveryResent', data: { ...resent.data, attempt: 2, oneShot: false, previousDueAt: t2 } }]);
    });

    it('a recovery resends only what ended in failure, naming the recovery on the attempt', () => {
      const recovered = { ...resent, data: { ...resent.data, trigger: 'recover' as const, recoveryId: 'rec_1' } };
      spec.given(history).when(resend({ trigger: 'recover', recoveryId: 'rec_1' })).then([recovered]);
      spec.given([scheduled, attempted(1)]).when(resend({ trigger: 'recover', recoveryId: 'rec_1' })).thenNothingHappens();
      spec
        .given([...history, recovered])
        .when(attempt(4, { dueAt: t9, responseStatus: 200 }))
        .then([final(4, { dueAt: t9, requestStatus: 'success', responseStatus: 200, errorMessage: null, result: 'delivered', trigger: 'recover', recoveryId: 'rec_1' })]);
    });

    it('rejects an unknown delivery', () => {
      spec.given([]).when(resend()).thenThrows('delivery_not_found');
    });
  });

  describe('RecordTestAttempt (SPEC §8.2)', () => {
    const test = {
      type: 'RecordTestAttempt' as const,
      deliveryId,
      workerId,
      webhookGeneration: 7,
      executionId: 'whe_0000000000000000000000000T',
      startedAt: t0,
      durationMs: 3,
      url: 'https://a.example/hook',
      responseStatus: 204,
      transportError: null,
      retryAfterMs: null,
      userAgent: 'Handinger-Webhooks/test',
    };

    it('records one attempt with no task, never retried', () => {
      spec.given([]).when(test).then([
        {
          type: 'DeliveryAttempted',
          data: {
            deliveryId, workerId, attempt: 1, executionId: test.executionId, startedAt: t0, durationMs: 3, url: test.url,
            requestStatus: 'success', responseStatus: 204, errorMessage: null, userAgent: test.userAgent,
            taskId: null, taskTitle: null, dueAt: t0, nextAttemptAt: null, result: 'delivered', trigger: 'test',
          },
        },
      ]);
      spec.given([]).when({ ...test, responseStatus: 500 }).then([
        {
          type: 'DeliveryAttempted',
          data: {
            deliveryId, workerId, attempt: 1, executionId: test.executionId, startedAt: t0, durationMs: 3, url: test.url,
            requestStatus: 'error', responseStatus: 500, errorMessage: 'HTTP 500', userAgent: test.userAgent,
            taskId: null, taskTitle: null, dueAt: t0, nextAttemptAt: null, result: 'failed', trigger: 'test', firstAttemptedAt: t0,
          },
        },
      ]);
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
