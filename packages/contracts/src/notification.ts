import type { TaskCompleted } from './events.js';
import type { DeliveryPayload } from './models.js';

/**
 * The notification of SPEC §5 for one task completion. A pure function of
 * the `TaskCompleted` event, so every retry of a delivery carries the same
 * body (receivers dedupe by `webhook-id` and may compare bodies).
 */
export function buildPayload(task: TaskCompleted['data']): DeliveryPayload {
  return {
    type: `task.${task.status}`,
    timestamp: task.recordedAt,
    data: {
      workerId: task.workerId,
      taskId: task.taskId,
      taskTitle: task.title,
      status: task.status,
      completedAt: task.completedAt,
      output: task.output,
    },
  };
}

/** The bytes sent and signed, serialized once per delivery (see `notificationOf`), so signature and body cannot disagree. */
export const serializePayload = (payload: DeliveryPayload | TestPayload): Buffer => Buffer.from(JSON.stringify(payload), 'utf8');

/** The body of a test notification (SPEC §8.2). */
export type TestPayload = { type: 'webhook.test'; timestamp: string; data: { workerId: string } };

/** A test notification's body: `timestamp` is when the test was first sent, so a redelivery sends the same bytes. */
export const buildTestPayload = (workerId: string, timestamp: string): TestPayload => ({ type: 'webhook.test', timestamp, data: { workerId } });

/** Request headers as undici takes them without conversion: name, value, name, value… (names in lower case). */
export type HeaderList = string[];

/** Stands for the two secret header values wherever a sent request is shown (SPEC §8.7). */
export const REDACTED = '[redacted]';

/**
 * The headers of every notification request (SPEC §5): the one place that
 * names them, for the sender and for the execution detail that shows them
 * (with `token` and `signature` redacted).
 */
export function notificationHeaders(parts: { userAgent: string; token: string; webhookId: string; timestampSeconds: number; signature: string }): HeaderList {
  return [
    'content-type', 'application/json',
    'user-agent', parts.userAgent,
    'x-handinger-token', parts.token,
    'webhook-id', parts.webhookId,
    'webhook-timestamp', String(parts.timestampSeconds),
    'webhook-signature', parts.signature,
  ];
}
