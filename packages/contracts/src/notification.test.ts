import { describe, expect, it } from 'vitest';
import type { TaskCompleted } from './events.js';
import { deliveryPayloadSchema } from './models.js';
import { buildPayload, serializePayload } from './notification.js';

const task: TaskCompleted['data'] = {
  taskId: 'task_1',
  workerId: 't_org_1_w_01HZY2ZJQ8G7K42W2D7WF6V4GM',
  title: null,
  status: 'aborted',
  completedAt: '2026-01-01T00:00:00.000Z',
  output: { nested: ['ü', 1, null] },
  recordedAt: '2026-01-01T00:00:01.500Z',
};

describe('buildPayload', () => {
  it('maps a completion to the body of SPEC §5', () => {
    const payload = buildPayload(task);
    expect(deliveryPayloadSchema.parse(payload)).toEqual(payload);
    expect(payload).toEqual({
      type: 'task.aborted',
      timestamp: '2026-01-01T00:00:01.500Z',
      data: {
        workerId: task.workerId,
        taskId: 'task_1',
        taskTitle: null,
        status: 'aborted',
        completedAt: '2026-01-01T00:00:00.000Z',
        output: { nested: ['ü', 1, null] },
      },
    });
  });

  it('serializes to the same bytes every time (retries carry an identical body)', () => {
    const a = serializePayload(buildPayload(task));
    const b = serializePayload(buildPayload(JSON.parse(JSON.stringify(task)) as TaskCompleted['data']));
    expect(a.equals(b)).toBe(true);
    expect(JSON.parse(a.toString('utf8'))).toEqual(buildPayload(task));
    // Key order is the documented one.
    expect(a.toString('utf8').startsWith('{"type":"task.aborted","timestamp":')).toBe(true);
  });
});
