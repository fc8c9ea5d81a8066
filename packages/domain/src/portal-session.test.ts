import { describe, it } from 'vitest';
import type { PortalSessionCreated } from '@handinger-webhooks/contracts';
import { portalSessionDecider, type CreatePortalSession } from './portal-session.js';
import { deciderSpecification } from './testing/decider-specification.js';

const spec = deciderSpecification(portalSessionDecider);
const now = '2026-01-01T00:00:00.000Z';
const create: CreatePortalSession = {
  type: 'CreatePortalSession',
  sessionId: 'ps_01HZY2ZJQ8G7K42W2D7WF6V4GM',
  workerId: 't_org_1_w_01HZY2ZJQ8G7K42W2D7WF6V4GN',
  credentialHash: 'cd'.repeat(32),
  readOnly: true,
  expiresInSeconds: 900,
  webhook: { generation: 42 },
  now,
};
const created: PortalSessionCreated = {
  type: 'PortalSessionCreated',
  data: {
    sessionId: create.sessionId,
    workerId: create.workerId,
    credentialHash: create.credentialHash,
    readOnly: true,
    webhookGeneration: 42,
    expiresAt: '2026-01-01T00:15:00.000Z',
    createdAt: now,
  },
};

describe('portal session decider', () => {
  it('creates a session bound to the webhook generation, expiring after its lifetime', () => {
    spec.given([]).when(create).then([created]);
  });

  it('records whether the session may change anything', () => {
    spec
      .given([])
      .when({ ...create, readOnly: false, expiresInSeconds: 86_400 })
      .then([{ type: 'PortalSessionCreated', data: { ...created.data, readOnly: false, expiresAt: '2026-01-02T00:00:00.000Z' } }]);
  });

  it('refuses a worker without a webhook', () => {
    spec.given([]).when({ ...create, webhook: null }).thenThrows('webhook_not_configured');
  });

  it.each([59, 86_401, 1.5, Number.NaN])('refuses a lifetime of %s seconds', (expiresInSeconds) => {
    spec.given([]).when({ ...create, expiresInSeconds }).thenThrows('portal_session_lifetime');
  });

  it('accepts the shortest lifetime', () => {
    spec
      .given([])
      .when({ ...create, expiresInSeconds: 60 })
      .then([{ type: 'PortalSessionCreated', data: { ...created.data, expiresAt: '2026-01-01T00:01:00.000Z' } }]);
  });

  it('refuses the same session id twice', () => {
    spec.given([created]).when(create).thenThrows('portal_session_exists');
  });
});
