import type { DomainEvent } from '@handinger-webhooks/contracts';
import type { RecordedEvent, TxSql } from '@handinger-webhooks/event-store';
import type { TableSet } from '../tables.js';
import { DELIVERY_WORK_SIGNAL } from './delivery-queue.js';
import type { Projection } from './projection.js';

export interface WebhookRow {
  worker_id: string;
  url: string;
  origin: string;
  /** Sealed (SPEC §7): open with the secret box. */
  token: string;
  /** Sealed (SPEC §7): open with the secret box. */
  signing_secret: string;
  generation: number;
  updated_at: string;
}

/** `scheme://host:port`, the unit of the per-origin delivery cap. */
export const originOf = (url: string): string => new URL(url).origin;

/** The current webhook of each worker; no row when none is configured. */
export function webhooksProjector(t: TableSet): Projection {
  const configure = `INSERT INTO ${t.webhooks} (worker_id, url, origin, token, signing_secret, generation, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (worker_id) DO UPDATE SET url = excluded.url, origin = excluded.origin, token = excluded.token,
       signing_secret = excluded.signing_secret, generation = excluded.generation, updated_at = excluded.updated_at`;
  const changeUrl = `UPDATE ${t.webhooks} SET url = ?, origin = ?, updated_at = ? WHERE worker_id = ?`;
  const rotate = `UPDATE ${t.webhooks} SET token = ?, signing_secret = ?, updated_at = ? WHERE worker_id = ?`;
  const remove = `DELETE FROM ${t.webhooks} WHERE worker_id = ?`;

  return {
    handles: ['WebhookConfigured', 'WebhookUrlChanged', 'WebhookTokenRotated', 'WebhookRemoved'],
    async project(tx: TxSql, event: RecordedEvent<DomainEvent>): Promise<void> {
      switch (event.type) {
        case 'WebhookConfigured': {
          const d = event.data;
          await tx.run(configure, [d.workerId, d.url, originOf(d.url), d.token, d.signingSecret, event.globalPosition, d.configuredAt]);
          break;
        }
        case 'WebhookUrlChanged':
          await tx.run(changeUrl, [event.data.url, originOf(event.data.url), event.data.changedAt, event.data.workerId]);
          // Pending attempts now go to another origin, which may have free slots: the delivery loop looks again.
          tx.signalAfterCommit(DELIVERY_WORK_SIGNAL);
          break;
        case 'WebhookTokenRotated':
          await tx.run(rotate, [event.data.token, event.data.signingSecret, event.data.rotatedAt, event.data.workerId]);
          break;
        case 'WebhookRemoved':
          await tx.run(remove, [event.data.workerId]);
          tx.signalAfterCommit(DELIVERY_WORK_SIGNAL); // its pending deliveries are to be dropped
          break;
      }
    },
  };
}
