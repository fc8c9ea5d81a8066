import {
  REDACTED,
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
import { toExecution, type ExecutionRow, type ReadModels } from '@handinger-webhooks/projections';

/**
 * One execution with the request that was sent (SPEC §8.7), rebuilt rather
 * than stored per attempt: the headers from the attempt's own fields (its
 * webhook-id, timestamp and User-Agent; the token and signature redacted,
 * so never stored), the body from the notification the log holds (the
 * completion, or for a test the time it was first sent). The hot path
 * stores nothing more than four small columns of the execution row.
 */
export async function executionDetail(readModels: ReadModels, log: EventLog, workerId: string, executionId: string): Promise<WebhookExecutionDetail | undefined> {
  const row = await readModels.execution(workerId, executionId);
  if (row === undefined) return undefined;
  const headerList = notificationHeaders({
    userAgent: row.user_agent,
    token: REDACTED,
    webhookId: row.delivery_id,
    timestampSeconds: Math.floor(Date.parse(row.created_at) / 1000),
    signature: REDACTED,
  });
  const headers: Record<string, string> = {};
  for (let i = 0; i < headerList.length; i += 2) headers[headerList[i]!] = headerList[i + 1]!;
  return { ...toExecution(row), webhookId: row.delivery_id, attempt: row.attempt, trigger: row.trigger, request: { headers, body: await bodyOf(log, row) } };
}

async function bodyOf(log: EventLog, row: ExecutionRow): Promise<string> {
  const events = await log.readStream<DeliveryEvent>(log.db.sql, streams.delivery(row.delivery_id));
  const scheduled = events.find((event) => event.type === 'DeliveryScheduled');
  if (scheduled === undefined) {
    // A test: its body's timestamp is its first attempt's start.
    const first = events.find((event) => event.type === 'DeliveryAttempted');
    return serializePayload(buildTestPayload(row.worker_id, first?.type === 'DeliveryAttempted' ? first.data.startedAt : row.created_at)).toString('utf8');
  }
  const { taskPosition, taskId } = scheduled.data as { taskPosition?: number; taskId: string };
  const task = taskPosition !== undefined ? (await log.eventsAt(log.db.sql, [taskPosition]))[0] : (await log.readStream(log.db.sql, streams.task(taskId)))[0];
  if (task?.type !== 'TaskCompleted') return '';
  return serializePayload(buildPayload((task as RecordedEvent<TaskCompleted>).data)).toString('utf8');
}
