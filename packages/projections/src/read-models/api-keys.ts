import type { ApiKeyRole, DomainEvent } from '@handinger-webhooks/contracts';
import type { RecordedEvent, TxSql } from '@handinger-webhooks/event-store';
import type { TableSet } from '../tables.js';
import type { Projection } from './projection.js';

export interface ApiKeyRow {
  id: string;
  key_hash: string;
  role: ApiKeyRole;
  organization_id: string | null;
  user_id: string | null;
  name: string | null;
  created_at: string;
  revoked_at: string | null;
}

/** API keys by hash (authentication) and by id (listing, revocation). */
export function apiKeysProjector(t: TableSet): Projection {
  const insert = `INSERT INTO ${t.apiKeys} (id, key_hash, role, organization_id, user_id, name, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`;
  const revoke = `UPDATE ${t.apiKeys} SET revoked_at = ? WHERE id = ?`;

  return {
    handles: ['ApiKeyIssued', 'ApiKeyRevoked'],
    async project(tx: TxSql, event: RecordedEvent<DomainEvent>): Promise<void> {
      switch (event.type) {
        case 'ApiKeyIssued': {
          const d = event.data;
          await tx.run(insert, [d.keyId, d.keyHash, d.role, d.organizationId, d.userId, d.name, d.issuedAt]);
          break;
        }
        case 'ApiKeyRevoked':
          await tx.run(revoke, [event.data.revokedAt, event.data.keyId]);
          break;
      }
    },
  };
}
