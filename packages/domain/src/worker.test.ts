import { describe, it } from 'vitest';
import type { WorkerCreated } from '@handinger-webhooks/contracts';
import { deciderSpecification } from './testing/decider-specification.js';
import { workerDecider, type CreateWorker } from './worker.js';

const spec = deciderSpecification(workerDecider);
const workerId = 't_org_1_w_01HZY2ZJQ8G7K42W2D7WF6V4GM';
const now = '2026-01-01T00:00:00.000Z';
const create: CreateWorker = {
  type: 'CreateWorker',
  workerId,
  organizationId: 'org_1',
  userId: 'user_1',
  title: 'Claims',
  instructions: 'Check claims',
  summary: 'A checker',
  visibility: 'public',
  now,
};
const created: WorkerCreated = {
  type: 'WorkerCreated',
  data: {
    workerId,
    organizationId: 'org_1',
    userId: 'user_1',
    title: 'Claims',
    instructions: 'Check claims',
    summary: 'A checker',
    visibility: 'public',
    createdAt: now,
  },
};

describe('worker decider', () => {
  it('creates a worker owned by its creator', () => {
    spec.given([]).when(create).then([created]);
  });

  it('rejects creating the same worker twice', () => {
    spec.given([created]).when(create).thenThrows('worker_exists');
  });

  it('deletes an active worker', () => {
    spec
      .given([created])
      .when({ type: 'DeleteWorker', workerId, now })
      .then([{ type: 'WorkerDeleted', data: { workerId, deletedAt: now } }]);
  });

  it('reports a missing worker as not found on delete', () => {
    spec.given([]).when({ type: 'DeleteWorker', workerId, now }).thenThrows('worker_not_found');
  });

  it('reports a deleted worker as not found on a second delete', () => {
    spec
      .given([created, { type: 'WorkerDeleted', data: { workerId, deletedAt: now } }])
      .when({ type: 'DeleteWorker', workerId, now })
      .thenThrows('worker_not_found');
  });

  it('cannot recreate a deleted worker', () => {
    spec
      .given([created, { type: 'WorkerDeleted', data: { workerId, deletedAt: now } }])
      .when(create)
      .thenThrows('worker_exists');
  });
});
