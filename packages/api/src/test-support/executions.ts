import type { AttemptOutcomeRecord, Application } from '@handinger-webhooks/commands';
import { createIdGenerator } from '@handinger-webhooks/contracts';
import type { ClaimedAttempt } from '@handinger-webhooks/projections';
import { waitFor } from '@handinger-webhooks/testing';

/** One attempt to put in a worker's execution log, as the delivery pipeline would have recorded it. */
export interface SeededAttempt {
  taskId: string;
  taskTitle: string | null;
  startedAt: string;
  durationMs: number;
  responseStatus: number | null;
  transportError?: string | null;
  /** Defaults to the webhook's URL. */
  url?: string;
}

/** What a test-side claim asks for: no cap gets in the way of a seed. */
const SEED_CLAIM = { owner: 'test-seed', ttlMs: 60_000, globalCap: 100_000, perOriginCap: 100_000, limit: 100_000 } as const;

/**
 * Puts executions in a worker's log through the real write path, without a
 * receiver: each attempt's task completion is recorded (which opens its
 * delivery, the worker having a webhook), the deliveries are claimed from
 * the queue as the delivery app would, and the attempts are recorded with
 * `retryScheduleMs: []` (one attempt per notification: a failure exhausts it,
 * nothing stays pending). Claims of other deliveries met on the way are
 * given back untouched. Resolves once every attempt is recorded.
 */
export async function seedExecutions(app: Application, workerId: string, attempts: readonly SeededAttempt[]): Promise<void> {
  const webhook = await app.readModels.webhook(workerId);
  if (webhook === undefined) throw new Error(`seedExecutions: worker ${workerId} has no webhook`);

  const byDelivery = new Map<string, SeededAttempt>();
  for (const attempt of attempts) {
    const { duplicate, deliveryId } = await app.commands.recordTaskCompletion({ taskId: attempt.taskId, workerId, title: attempt.taskTitle ?? undefined, status: 'completed' });
    if (duplicate || deliveryId === null) throw new Error(`seedExecutions: task ${attempt.taskId} opened no delivery`);
    byDelivery.set(deliveryId, attempt);
  }

  // A delivery is due when it is opened, by the database's clock: claim until every one is in hand.
  const claimed = new Map<string, ClaimedAttempt>();
  await waitFor(
    async () => {
      const claim = await app.database.transaction((tx) => app.claims.claim(tx, SEED_CLAIM));
      const others = [...claim.orphans.map((o) => o.claimToken)];
      for (const attempt of claim.attempts) {
        if (byDelivery.has(attempt.deliveryId)) claimed.set(attempt.deliveryId, attempt);
        else others.push(attempt.claimToken);
      }
      await app.claims.release(app.database.sql, others);
      return claimed.size === byDelivery.size;
    },
    { timeoutMs: 10_000, message: `seedExecutions: could not claim the ${byDelivery.size} deliveries of ${workerId}` },
  );

  const ids = createIdGenerator();
  const sends: AttemptOutcomeRecord[] = [...claimed.values()].map((claim) => {
    const attempt = byDelivery.get(claim.deliveryId)!;
    return {
      claim,
      executionId: ids.executionId(),
      startedAt: attempt.startedAt,
      durationMs: attempt.durationMs,
      url: attempt.url ?? webhook.url,
      responseStatus: attempt.responseStatus,
      transportError: attempt.transportError ?? null,
      taskTitle: attempt.taskTitle,
      retryScheduleMs: [],
    };
  });
  const results = await app.commands.recordAttempts(sends);
  const failed = results.filter((result) => !result.recorded);
  if (failed.length > 0) throw new Error(`seedExecutions: ${failed.length} attempts were not recorded: ${JSON.stringify(failed[0])}`);
}
