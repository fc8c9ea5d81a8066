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
}

export const LIVE_TABLES: TableSet = {
  workers: 'workers',
  webhooks: 'webhooks',
  executions: 'webhook_executions',
  apiKeys: 'api_keys',
  deliveryQueue: 'delivery_queue',
};

/** Where a rebuild builds before the swap. */
export const ASIDE_TABLES: TableSet = Object.fromEntries(
  Object.entries(LIVE_TABLES).map(([key, name]) => [key, `${name}__rebuild`]),
) as unknown as TableSet;

/** Columns that are not a projection of the log (live claims): carried over by a rebuild's swap, left out of `--verify`. */
export const VOLATILE_COLUMNS: Partial<Record<keyof TableSet, readonly string[]>> = {
  deliveryQueue: ['claim_token', 'claim_owner', 'claim_origin', 'claim_expires_at'],
};
