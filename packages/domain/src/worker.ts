import type { WorkerCreated, WorkerEvent } from '@handinger-webhooks/contracts';
import { DomainError, type Decider } from './decider.js';

export type WorkerState =
  | { status: 'absent' }
  | { status: 'active' | 'deleted'; organizationId: string; userId: string };

/** Everything the WorkerCreated event records, with `now` as its creation time. */
export type CreateWorker = { type: 'CreateWorker'; now: string } & Omit<WorkerCreated['data'], 'createdAt'>;
export type DeleteWorker = { type: 'DeleteWorker'; workerId: string; now: string };
export type WorkerCommand = CreateWorker | DeleteWorker;

const workerNotFound = (workerId: string) => new DomainError('not_found', 'worker_not_found', `worker ${workerId} not found`);

/** Workers: created once by their creator, soft-deleted once. */
export const workerDecider: Decider<WorkerState, WorkerCommand, WorkerEvent> = {
  initialState: () => ({ status: 'absent' }),

  decide(command, state) {
    switch (command.type) {
      case 'CreateWorker': {
        if (state.status !== 'absent') {
          throw new DomainError('conflict', 'worker_exists', `worker ${command.workerId} already exists`);
        }
        const { type: _type, now, ...fields } = command;
        return [{ type: 'WorkerCreated', data: { ...fields, createdAt: now } }];
      }
      case 'DeleteWorker':
        if (state.status !== 'active') throw workerNotFound(command.workerId);
        return [{ type: 'WorkerDeleted', data: { workerId: command.workerId, deletedAt: command.now } }];
    }
  },

  evolve(state, event) {
    switch (event.type) {
      case 'WorkerCreated':
        return { status: 'active', organizationId: event.data.organizationId, userId: event.data.userId };
      case 'WorkerDeleted':
        return state.status === 'absent' ? state : { ...state, status: 'deleted' };
    }
  },
};
