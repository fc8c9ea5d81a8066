import type { DomainEvent } from '@handinger-webhooks/contracts';
import type { RecordedEvent, TxSql } from '@handinger-webhooks/event-store';
import type { TableSet } from '../tables.js';
import type { Projection } from './projection.js';

export interface PortalSessionRow {
  id: string;
  /** SHA-256 of the credential (hex); the credential itself is never stored. */
  credential_hash: string;
  worker_id: string;
  /** The webhook generation it belongs to. */
  generation: number;
  /** 1 when the session may only read, 0 when it may also act (SPEC §9.1). */
  read_only: number;
  expires_at: string;
  created_at: string;
}

/**
 * Live portal sessions by credential hash. A session ends with its webhook:
 * `WebhookRemoved` (a removal, or the worker's deletion) deletes the
 * worker's sessions, and a webhook set again is a new generation that no
 * session belongs to, so nothing revives them. Expired sessions of a worker
 * are deleted when it gets a new one (by the event's time, so a rebuild
 * deletes the same rows); until then the API refuses them by `expires_at`.
 */
export function portalSessionsProjector(t: TableSet): Projection {
  const purgeExpired = `DELETE FROM ${t.portalSessions} WHERE worker_id = ? AND expires_at <= ?`;
  const insert = `INSERT INTO ${t.portalSessions} (id, credential_hash, worker_id, generation, read_only, expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`;
  const endAll = `DELETE FROM ${t.portalSessions} WHERE worker_id = ?`;

  return {
    handles: ['PortalSessionCreated', 'WebhookRemoved'],
    async project(tx: TxSql, event: RecordedEvent<DomainEvent>): Promise<void> {
      switch (event.type) {
        case 'PortalSessionCreated': {
          const d = event.data;
          await tx.run(purgeExpired, [d.workerId, d.createdAt]);
          await tx.run(insert, [d.sessionId, d.credentialHash, d.workerId, d.webhookGeneration, d.readOnly ? 1 : 0, d.expiresAt, d.createdAt]);
          break;
        }
        case 'WebhookRemoved':
          await tx.run(endAll, [event.data.workerId]);
          break;
      }
    },
  };
}
