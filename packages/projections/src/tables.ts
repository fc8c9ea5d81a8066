/**
 * The read models' table names. The live set is what the API and delivery
 * read; a rebuild fills an aside set from the log and swaps it in, so every
 * projector and DDL takes the names as a parameter rather than hard-coding them.
 */
export interface TableSet {
  workers: string;
  webhooks: string;
  executions: string;
  apiKeys: string;
  deliveryQueue: string;
  /** Notifications of disabled webhooks, waiting for an enable (SPEC §8.5). */
  heldDeliveries: string;
  /** Notifications that ended in failure: what a recovery selects from (SPEC §8.4). */
  failedDeliveries: string;
  recoveries: string;
  portalSessions: string;
}

export const LIVE_TABLES: TableSet = {
  workers: 'workers',
  webhooks: 'webhooks',
  executions: 'webhook_executions',
  apiKeys: 'api_keys',
  deliveryQueue: 'delivery_queue',
  heldDeliveries: 'held_deliveries',
  failedDeliveries: 'failed_deliveries',
  recoveries: 'recoveries',
  portalSessions: 'portal_sessions',
};

/** Where a rebuild builds before the swap. */
export const ASIDE_TABLES: TableSet = Object.fromEntries(
  Object.entries(LIVE_TABLES).map(([key, name]) => [key, `${name}__rebuild`]),
) as unknown as TableSet;
