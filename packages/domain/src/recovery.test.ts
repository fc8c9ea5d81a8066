import { describe, it } from 'vitest';
import type { RecoveryStarted } from '@handinger-webhooks/contracts';
import { recoveryDecider } from './recovery.js';
import { deciderSpecification } from './testing/decider-specification.js';

const spec = deciderSpecification(recoveryDecider);
const workerId = 't_org_1_w_01HZY2ZJQ8G7K42W2D7WF6V4GM';
const now = '2026-01-02T00:00:00.000Z';
const start = { type: 'StartRecovery' as const, recoveryId: 'rec_1', workerId, since: '2026-01-01T00:00:00.000Z', until: now, total: 3, selectedUpTo: 42, now };
const started: RecoveryStarted = {
  type: 'RecoveryStarted',
  data: { recoveryId: 'rec_1', workerId, since: start.since, until: now, total: 3, selectedUpTo: 42, createdAt: now },
};

describe('recovery decider', () => {
  it('starts once with its selection fixed', () => {
    spec.given([]).when(start).then([started]);
    spec.given([started]).when(start).thenNothingHappens();
  });

  it('refuses an empty or inverted range', () => {
    spec.given([]).when({ ...start, since: now }).thenThrows('recovery_range');
  });

  it('ends its scheduling once', () => {
    const finish = { type: 'FinishRecoveryScheduling' as const, recoveryId: 'rec_1', resent: 3, now };
    spec.given([started]).when(finish).then([{ type: 'RecoveryScheduled', data: { recoveryId: 'rec_1', workerId, resent: 3, scheduledAt: now } }]);
    spec.given([started, { type: 'RecoveryScheduled', data: { recoveryId: 'rec_1', workerId, resent: 3, scheduledAt: now } }]).when(finish).thenNothingHappens();
    spec.given([]).when(finish).thenThrows('recovery_not_found');
  });
});
