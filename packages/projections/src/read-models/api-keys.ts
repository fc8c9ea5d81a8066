import type { ApiKeyRole, DomainEvent } from '@handinger-webhooks/contracts';
import type { RecordedEvent, SqliteDatabase } from '@handinger-webhooks/event-store';
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
export function apiKeysProjector(db: SqliteDatabase, t: TableSet): Projection {
  const insert = db.prepare(
    `INSERT INTO ${t.apiKeys} (id, key_hash, role, organization_id, user_id, name, created_at)
     VALUES (@keyId, @keyHash, @role, @organizationId, @userId, @name, @issuedAt)`,
  );
  const revoke = db.prepare(`UPDATE ${t.apiKeys} SET revoked_at = ? WHERE id = ?`);

  return {
    handles: ['ApiKeyIssued', 'ApiKeyRevoked'],
    project(event: RecordedEvent<DomainEvent>): void {
      switch (event.type) {
        case 'ApiKeyIssued':
          insert.run(event.data);
          break;
        case 'ApiKeyRevoked':
          revoke.run(event.data.revokedAt, event.data.keyId);
          break;
      }
    },
  };
}
