import type { DomainEvent, PortalSessionCreated } from '@handinger-webhooks/contracts';
import { TEST_BACKENDS } from '@handinger-webhooks/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStorageUnderTest, type StorageUnderTest } from './storage-under-test.js';

/** The portal sessions read model (SPEC §9.1) behaves the same on every backend. */

const W = 't_org_1_w_01HZY2ZJQ8G7K42W2D7WF6V4GM';
const OTHER = 't_org_1_w_01HZY2ZJQ8G7K42W2D7WF6V4GN';

const session = (n: number, workerId: string, createdAt: string, expiresAt: string, readOnly = true): PortalSessionCreated => ({
  type: 'PortalSessionCreated',
  data: { sessionId: `ps_${n}`, workerId, credentialHash: String(n).padStart(64, '0'), readOnly, webhookGeneration: 7, expiresAt, createdAt },
});

describe.each(TEST_BACKENDS)('portal sessions on %s', (backend) => {
  let s: StorageUnderTest;
  beforeEach(async () => {
    s = await openStorageUnderTest(backend);
  });
  afterEach(() => s.close());

  const append = (events: [string, DomainEvent][]) =>
    s.db.transaction(async (tx) => {
      for (const [stream, event] of events) await s.log.append(tx, stream, [event], 'any');
    });

  it('finds a session by its credential hash, with its generation and whether it is read-only', async () => {
    await append([['portal-ps_1', session(1, W, '2026-01-01T00:00:00.000Z', '2026-01-01T00:15:00.000Z', false)]]);
    expect(await s.readModels.portalSessionByHash('1'.padStart(64, '0'))).toEqual({
      id: 'ps_1',
      credential_hash: '1'.padStart(64, '0'),
      worker_id: W,
      generation: 7,
      read_only: 0,
      expires_at: '2026-01-01T00:15:00.000Z',
      created_at: '2026-01-01T00:00:00.000Z',
    });
    expect(await s.readModels.portalSessionByHash('f'.repeat(64))).toBeUndefined();
  });

  it("a webhook's removal deletes its worker's sessions only", async () => {
    await append([
      ['portal-ps_1', session(1, W, '2026-01-01T00:00:00.000Z', '2026-01-01T00:15:00.000Z')],
      ['portal-ps_2', session(2, OTHER, '2026-01-01T00:00:00.000Z', '2026-01-01T00:15:00.000Z')],
      [`webhook-${W}`, { type: 'WebhookRemoved', data: { workerId: W, reason: 'removed', removedAt: '2026-01-01T00:01:00.000Z' } }],
    ]);
    expect(await s.readModels.portalSessionByHash('1'.padStart(64, '0'))).toBeUndefined();
    expect(await s.readModels.portalSessionByHash('2'.padStart(64, '0'))).toMatchObject({ id: 'ps_2' });
  });

  it("a new session purges the worker's expired ones (by the event's time, so a rebuild purges the same)", async () => {
    await append([
      ['portal-ps_1', session(1, W, '2026-01-01T00:00:00.000Z', '2026-01-01T00:01:00.000Z')],
      ['portal-ps_2', session(2, W, '2026-01-01T00:00:00.000Z', '2026-01-01T01:00:00.000Z')],
      ['portal-ps_3', session(3, W, '2026-01-01T00:30:00.000Z', '2026-01-01T00:45:00.000Z')],
    ]);
    expect(await s.readModels.portalSessionByHash('1'.padStart(64, '0'))).toBeUndefined();
    expect(await s.readModels.portalSessionByHash('2'.padStart(64, '0'))).toMatchObject({ id: 'ps_2' });
    expect(await s.readModels.portalSessionByHash('3'.padStart(64, '0'))).toMatchObject({ id: 'ps_3' });
  });
});
