import { describe, it } from 'vitest';
import type { ApiKeyIssued } from '@handinger-webhooks/contracts';
import { apiKeyDecider, type IssueApiKey } from './api-key.js';
import { deciderSpecification } from './testing/decider-specification.js';

const spec = deciderSpecification(apiKeyDecider);
const keyId = 'key_01HZY2ZJQ8G7K42W2D7WF6V4GM';
const now = '2026-01-01T00:00:00.000Z';
const issueUser: IssueApiKey = {
  type: 'IssueApiKey',
  keyId,
  keyHash: 'ab'.repeat(32),
  role: 'user',
  organizationId: 'org_1',
  userId: 'user_1',
  name: 'laptop',
  now,
};
const issued: ApiKeyIssued = {
  type: 'ApiKeyIssued',
  data: { keyId, keyHash: 'ab'.repeat(32), role: 'user', organizationId: 'org_1', userId: 'user_1', name: 'laptop', issuedAt: now },
};
const revoked = { type: 'ApiKeyRevoked' as const, data: { keyId, revokedAt: now } };

describe('api key decider', () => {
  it('issues a user key for a user of an organization', () => {
    spec.given([]).when(issueUser).then([issued]);
  });

  it('issues a service key that belongs to nobody', () => {
    spec
      .given([])
      .when({ ...issueUser, role: 'service', organizationId: null, userId: null, name: 'runner' })
      .then([{ type: 'ApiKeyIssued', data: { ...issued.data, role: 'service', organizationId: null, userId: null, name: 'runner' } }]);
  });

  it('rejects a user key without an owner', () => {
    spec.given([]).when({ ...issueUser, userId: null }).thenThrows('user_key_needs_owner');
  });

  it('rejects a service key with an owner', () => {
    spec.given([]).when({ ...issueUser, role: 'service' }).thenThrows('service_key_has_owner');
  });

  it('rejects issuing the same key id twice', () => {
    spec.given([issued]).when(issueUser).thenThrows('api_key_exists');
  });

  it('revokes an active key', () => {
    spec.given([issued]).when({ type: 'RevokeApiKey', keyId, now }).then([revoked]);
  });

  it('appends nothing when revoking a revoked key', () => {
    spec.given([issued, revoked]).when({ type: 'RevokeApiKey', keyId, now }).thenNothingHappens();
  });

  it('reports an unknown key as not found', () => {
    spec.given([]).when({ type: 'RevokeApiKey', keyId, now }).thenThrows('api_key_not_found');
  });
});
