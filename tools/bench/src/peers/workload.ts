/**
 * The task completions every delivery scenario feeds its side, ours and the
 * peers' alike: one shape and size, defined once.
 */

/** A task's output of a realistic size (a few hundred bytes of JSON). */
export const OUTPUT = {
  summary: 'Weekly pricing report: 14 competitors checked, 3 price changes detected, 1 new product listed.',
  items: Array.from({ length: 4 }, (_, i) => ({ sku: `SKU-${1000 + i}`, price: 19.99 + i, currency: 'EUR', changed: i % 2 === 0 })),
};

export interface Completion {
  taskId: string;
  workerId: string;
  title: string | null;
  status: 'completed' | 'error' | 'aborted';
  completedAt?: string;
  output?: unknown;
}

/** The body the task runner POSTs to the ingestion endpoint (the product's `/api/task-completions` body). */
export const completion = (workerId: string, i: number, run: string): Completion => ({
  taskId: `task_${run}_${i}`,
  workerId,
  title: 'Weekly pricing report',
  status: 'completed',
  output: OUTPUT,
});

/** A worker id of the product's shape (`t_<org>_w_<ulid>`), fixed for the peers. */
export const PEER_WORKER_ID = 't_org_local_w_01JBENCHPEERS0000000000000';
