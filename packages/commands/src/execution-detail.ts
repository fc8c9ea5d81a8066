import {
  REDACTED,
  attemptTriggerOf,
  buildPayload,
  buildTestPayload,
  notificationHeaders,
  serializePayload,
  streams,
  type DeliveryEvent,
  type TaskCompleted,
  type WebhookExecutionDetail,
} from '@handinger-webhooks/contracts';
import type { EventLog, RecordedEvent } from '@handinger-webhooks/event-store';
import { toExecution, type ReadModels } from '@handinger-webhooks/projections';

/**
 * One execution with the request that was sent (SPEC §8.7), rebuilt rather
 * than stored per attempt: the execution row names its notification, whose
 * stream holds the attempt (its number, trigger, User-Agent and start, the
 * `webhook-timestamp`) and leads to the body (the completion in the log, or
 * for a test the time it was first sent). The token and signature are
 * never stored, so they show as redacted. The hot path stores one column
 * more per execution than before, nothing else.
 */
export async function executionDetail(readModels: ReadModels, log: EventLog, workerId: string, executionId: string): Promise<WebhookExecutionDetail | undefined> {
  const row = await readModels.execution(workerId, executionId);
  if (row === undefined) return undefined;
  const events = await log.readStream<DeliveryEvent>(log.db.sql, streams.delivery(row.delivery_id));
  const attempted = events.find((event) => event.type === 'DeliveryAttempted' && event.data.executionId === executionId);
  if (attempted?.type !== 'DeliveryAttempted') return undefined;
  const headerList = notificationHeaders({
    userAgent: attempted.data.userAgent ?? '',
    token: REDACTED,
    webhookId: row.delivery_id,
    timestampSeconds: Math.floor(Date.parse(attempted.data.startedAt) / 1000),
    signature: REDACTED,
  });
  const headers: Record<string, string> = {};
  for (let i = 0; i < headerList.length; i += 2) headers[headerList[i]!] = headerList[i + 1]!;
  return {
    ...toExecution(row),
    webhookId: row.delivery_id,
    attempt: attempted.data.attempt,
    trigger: attemptTriggerOf(attempted.data),
    request: { headers, body: await bodyOf(log, row.worker_id, events) },
  };
}

async function bodyOf(log: EventLog, workerId: string, events: RecordedEvent<DeliveryEvent>[]): Promise<string> {
  const scheduled = events.find((event) => event.type === 'DeliveryScheduled');
  if (scheduled?.type !== 'DeliveryScheduled') {
    // A test: its body's timestamp is its first attempt's start.
    const first = events.find((event) => event.type === 'DeliveryAttempted');
    return first?.type === 'DeliveryAttempted' ? serializePayload(buildTestPayload(workerId, first.data.startedAt)).toString('utf8') : '';
  }
  const { taskPosition, taskId } = scheduled.data;
  const task = taskPosition !== undefined ? (await log.eventsAt(log.db.sql, [taskPosition]))[0] : (await log.readStream(log.db.sql, streams.task(taskId)))[0];
  if (task?.type !== 'TaskCompleted') return '';
  return serializePayload(buildPayload((task as RecordedEvent<TaskCompleted>).data)).toString('utf8');
}
