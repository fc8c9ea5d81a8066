import type { RecoveryEvent } from '@handinger-webhooks/contracts';
import { DomainError, type Decider } from './decider.js';

export type RecoveryState = { status: 'absent' } | { status: 'running' | 'scheduled'; workerId: string };

export type StartRecovery = {
  type: 'StartRecovery';
  recoveryId: string;
  workerId: string;
  since: string;
  until: string;
  total: number;
  selectedUpTo: number;
  now: string;
};
export type FinishRecoveryScheduling = { type: 'FinishRecoveryScheduling'; recoveryId: string; resent: number; now: string };
export type RecoveryCommand = StartRecovery | FinishRecoveryScheduling;

/**
 * A recovery of failed notifications (SPEC §8.4): it starts with its
 * selection fixed (a time range, and the log position up to which failures
 * count), and ends its scheduling once, when the runner has resent every
 * selected notification. What it sent is read off the attempts that name it.
 */
export const recoveryDecider: Decider<RecoveryState, RecoveryCommand, RecoveryEvent> = {
  initialState: () => ({ status: 'absent' }),

  decide(command, state) {
    switch (command.type) {
      case 'StartRecovery': {
        if (state.status !== 'absent') return [];
        const { recoveryId, workerId, since, until, total, selectedUpTo, now } = command;
        if (!(Date.parse(since) < Date.parse(until))) throw new DomainError('invalid', 'recovery_range', 'since: must be before until');
        return [{ type: 'RecoveryStarted', data: { recoveryId, workerId, since, until, total, selectedUpTo, createdAt: now } }];
      }
      case 'FinishRecoveryScheduling':
        if (state.status === 'absent') throw new DomainError('not_found', 'recovery_not_found', `recovery ${command.recoveryId} not found`);
        if (state.status === 'scheduled') return [];
        return [{ type: 'RecoveryScheduled', data: { recoveryId: command.recoveryId, workerId: state.workerId, resent: command.resent, scheduledAt: command.now } }];
    }
  },

  evolve(state, event) {
    switch (event.type) {
      case 'RecoveryStarted':
        return { status: 'running', workerId: event.data.workerId };
      case 'RecoveryScheduled':
        return state.status === 'absent' ? state : { ...state, status: 'scheduled' };
    }
  },
};
