import { describe, it } from 'vitest';
import type { TaskCompleted } from '@handinger-webhooks/contracts';
import { taskDecider, type RecordTaskCompletion } from './task.js';
import { deciderSpecification } from './testing/decider-specification.js';

const spec = deciderSpecification(taskDecider);
const workerId = 't_org_1_w_01HZY2ZJQ8G7K42W2D7WF6V4GM';
const now = '2026-01-01T00:00:05.000Z';
const record: RecordTaskCompletion = {
  type: 'RecordTaskCompletion',
  taskId: 'task_1',
  workerId,
  title: 'Check a claim',
  status: 'completed',
  completedAt: '2026-01-01T00:00:00.000Z',
  output: { verdict: 'true' },
  now,
};
const completed: TaskCompleted = {
  type: 'TaskCompleted',
  data: {
    taskId: 'task_1',
    workerId,
    title: 'Check a claim',
    status: 'completed',
    completedAt: '2026-01-01T00:00:00.000Z',
    output: { verdict: 'true' },
    recordedAt: now,
  },
};

describe('task decider', () => {
  it('records a completion', () => {
    spec.given([]).when(record).then([completed]);
  });

  it('defaults completedAt to the time of recording', () => {
    spec
      .given([])
      .when({ ...record, completedAt: null })
      .then([{ type: 'TaskCompleted', data: { ...completed.data, completedAt: now } }]);
  });

  it('treats a repeat for the same worker as a duplicate that appends nothing', () => {
    spec.given([completed]).when({ ...record, status: 'error', output: 'other' }).thenNothingHappens();
  });

  it('rejects the same taskId for another worker', () => {
    spec
      .given([completed])
      .when({ ...record, workerId: 't_org_1_w_01HZY2ZJQ8G7K42W2D7WF6V4GN' })
      .thenThrows('task_worker_mismatch');
  });
});
