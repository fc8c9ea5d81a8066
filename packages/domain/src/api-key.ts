import type { ApiKeyEvent, ApiKeyIssued } from '@handinger-webhooks/contracts';
import { DomainError, type Decider } from './decider.js';

export type ApiKeyState = { status: 'absent' } | { status: 'active' | 'revoked' };

/** Everything the ApiKeyIssued event records, with `now` as its issue time. */
export type IssueApiKey = { type: 'IssueApiKey'; now: string } & Omit<ApiKeyIssued['data'], 'issuedAt'>;
export type RevokeApiKey = { type: 'RevokeApiKey'; keyId: string; now: string };
export type ApiKeyCommand = IssueApiKey | RevokeApiKey;

/** API keys (SPEC §2): a user key belongs to a user of an organization; a service key to neither. */
export const apiKeyDecider: Decider<ApiKeyState, ApiKeyCommand, ApiKeyEvent> = {
  initialState: () => ({ status: 'absent' }),

  decide(command, state) {
    switch (command.type) {
      case 'IssueApiKey': {
        if (state.status !== 'absent') throw new DomainError('conflict', 'api_key_exists', `key ${command.keyId} already exists`);
        const scoped = command.organizationId !== null && command.userId !== null;
        const unscoped = command.organizationId === null && command.userId === null;
        if (command.role === 'user' && !scoped) {
          throw new DomainError('invalid', 'user_key_needs_owner', 'a user key needs an organization and a user');
        }
        if (command.role === 'service' && !unscoped) {
          throw new DomainError('invalid', 'service_key_has_owner', 'a service key belongs to no organization or user');
        }
        const { type: _type, now, ...fields } = command;
        return [{ type: 'ApiKeyIssued', data: { ...fields, issuedAt: now } }];
      }
      case 'RevokeApiKey':
        if (state.status === 'absent') throw new DomainError('not_found', 'api_key_not_found', `key ${command.keyId} not found`);
        if (state.status === 'revoked') return [];
        return [{ type: 'ApiKeyRevoked', data: { keyId: command.keyId, revokedAt: command.now } }];
    }
  },

  evolve(_state, event) {
    switch (event.type) {
      case 'ApiKeyIssued':
        return { status: 'active' };
      case 'ApiKeyRevoked':
        return { status: 'revoked' };
    }
  },
};
