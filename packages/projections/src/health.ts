import { nowMs, type Sql } from '@handinger-webhooks/event-store';
import { CLAIMS_TABLE } from './schema.js';
import { LIVE_TABLES, type TableSet } from './tables.js';

/** The delivery queue as an operator watches it (SPEC §10), for the whole database: every process's work. */
export interface DeliveryBacklog {
  /** Attempts due now and not in flight (no live claim of any process). */
  due: number;
  /** How long the oldest of them has been due, in seconds by the database's clock (0 when none is due). */
  oldestDueAgeSeconds: number;
}

/** Webhooks an operator must look at (SPEC §8.5, §10), for the whole database. */
export interface WebhookHealth {
  /** Webhooks whose status is `disabled` (by hand, or because they kept failing). */
  disabled: number;
  /** Notifications held for disabled webhooks, all webhooks together. */
  held: number;
}

/**
 * One read of the queue's due range (its clustered key on SQLite, its
 * primary key on PostgreSQL, both ordered by due time) joined to the live
 * claims: it reads the rows due now, never the ones due later. The clock
 * is the database's, the one claims compare with.
 */
export async function deliveryBacklog(sql: Sql, t: TableSet = LIVE_TABLES): Promise<DeliveryBacklog> {
  const row = await sql.get<{ due: number | string; oldest: number | string | null; now: number | string }>(
    `WITH clock AS (SELECT ${nowMs(sql.dialect)} AS now)
     SELECT COUNT(q.delivery_id) AS due, MIN(q.due_at) AS oldest, MIN(clock.now) AS now
       FROM clock
       LEFT JOIN ${t.deliveryQueue} q ON q.due_at <= clock.now
        AND NOT EXISTS (SELECT 1 FROM ${CLAIMS_TABLE} c WHERE c.delivery_id = q.delivery_id AND c.expires_at > clock.now)`,
  );
  const due = Number(row?.due ?? 0);
  const oldest = row?.oldest === null || row?.oldest === undefined ? null : Number(row.oldest);
  return { due, oldestDueAgeSeconds: oldest === null ? 0 : Math.max(0, (Number(row!.now) - oldest) / 1000) };
}

/**
 * Disabled webhooks and the notifications held for them (SPEC §8.5: only a
 * disabled webhook holds any), from the webhooks read model: one pass over
 * its rows, one per configured webhook.
 */
export async function webhookHealth(sql: Sql, t: TableSet = LIVE_TABLES): Promise<WebhookHealth> {
  const row = await sql.get<{ disabled: number | string; held: number | string | null }>(
    `SELECT COUNT(*) AS disabled, SUM(held_count) AS held FROM ${t.webhooks} WHERE status = 'disabled'`,
  );
  return { disabled: Number(row?.disabled ?? 0), held: Number(row?.held ?? 0) };
}
