import type { DeliveryPayload, TaskCompleted } from '@handinger-webhooks/contracts';

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
export const serializePayload = (payload: DeliveryPayload): Buffer => Buffer.from(JSON.stringify(payload), 'utf8');
