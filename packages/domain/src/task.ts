import type { TaskEvent, TaskStatus } from '@handinger-webhooks/contracts';
import { DomainError, type Decider } from './decider.js';

export type TaskState = { status: 'absent' } | { status: 'completed'; workerId: string };

export type RecordTaskCompletion = {
  type: 'RecordTaskCompletion';
  taskId: string;
  workerId: string;
  title: string | null;
  status: TaskStatus;
  /** Defaults to `now`, the time of recording. */
  completedAt: string | null;
  output: unknown;
  now: string;
};
export type TaskCommand = RecordTaskCompletion;

/**
 * Task completions, idempotent per `taskId`: a repeat for the same worker
 * changes nothing (the caller reports `duplicate: true`); the same `taskId`
 * for another worker is a conflict.
 */
export const taskDecider: Decider<TaskState, TaskCommand, TaskEvent> = {
  initialState: () => ({ status: 'absent' }),

  decide(command, state) {
    if (state.status === 'completed') {
      if (state.workerId === command.workerId) return [];
      throw new DomainError('conflict', 'task_worker_mismatch', `task ${command.taskId} was already recorded for another worker`);
    }
    const { taskId, workerId, title, status, completedAt, output, now } = command;
    return [
      {
        type: 'TaskCompleted',
        data: { taskId, workerId, title, status, completedAt: completedAt ?? now, output, recordedAt: now },
      },
    ];
  },

  evolve(_state, event) {
    return { status: 'completed', workerId: event.data.workerId };
  },
};
