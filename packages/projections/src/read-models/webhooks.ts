import type { DomainEvent } from '@handinger-webhooks/contracts';
import type { RecordedEvent, SqliteDatabase } from '@handinger-webhooks/event-store';
import type { TableSet } from '../tables.js';
import type { Projection } from './projection.js';

export interface WebhookRow {
  worker_id: string;
  url: string;
  origin: string;
  token: string;
  signing_secret: string;
  generation: number;
  updated_at: string;
}

/** `scheme://host:port`, the unit of the per-origin delivery cap. */
export const originOf = (url: string): string => new URL(url).origin;

/** The current webhook of each worker; no row when none is configured. */
export function webhooksProjector(db: SqliteDatabase, t: TableSet): Projection {
  const configure = db.prepare(
    `INSERT OR REPLACE INTO ${t.webhooks} (worker_id, url, origin, token, signing_secret, generation, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
  );
  const changeUrl = db.prepare(`UPDATE ${t.webhooks} SET url = ?, origin = ?, updated_at = ? WHERE worker_id = ?`);
  const rotate = db.prepare(`UPDATE ${t.webhooks} SET token = ?, signing_secret = ?, updated_at = ? WHERE worker_id = ?`);
  const remove = db.prepare(`DELETE FROM ${t.webhooks} WHERE worker_id = ?`);

  return {
    handles: ['WebhookConfigured', 'WebhookUrlChanged', 'WebhookTokenRotated', 'WebhookRemoved'],
    project(event: RecordedEvent<DomainEvent>): void {
      switch (event.type) {
        case 'WebhookConfigured': {
          const d = event.data;
          configure.run(d.workerId, d.url, originOf(d.url), d.token, d.signingSecret, event.globalPosition, d.configuredAt);
          break;
        }
        case 'WebhookUrlChanged':
          changeUrl.run(event.data.url, originOf(event.data.url), event.data.changedAt, event.data.workerId);
          break;
        case 'WebhookTokenRotated':
          rotate.run(event.data.token, event.data.signingSecret, event.data.rotatedAt, event.data.workerId);
          break;
        case 'WebhookRemoved':
          remove.run(event.data.workerId);
          break;
      }
    },
  };
}
