import pg from 'pg';
import { attemptData, SEALED_SIGNING_SECRET, SEALED_TOKEN, type RawExecution } from './raw-sqlite.js';

/**
 * The raw `pg` ceiling of the command path on PostgreSQL: the same schema
 * (the product's migrations and DDL, set up beforehand) and the same
 * statements as the product's hot path, written by hand: per transaction
 * BEGIN, one event INSERT, one read-model upsert, COMMIT, as named prepared
 * statements on pooled connections (as many as the product's pool), with
 * `callers` callers in parallel. No decider, no stream read, no projector.
 */
export async function rawPgCommands(
  url: string,
  options: { count: number; callers: number; poolSize: number; kind: 'record' | 'webhook'; row: (i: number) => RawExecution & { origin: string } },
): Promise<number> {
  const pool = new pg.Pool({ connectionString: url, max: options.poolSize });
  pool.on('error', () => {});
  const insertEvent = {
    name: 'raw_insert_event',
    text: 'INSERT INTO events (stream_id, stream_position, type, data, metadata, recorded_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (stream_id, stream_position) DO NOTHING RETURNING global_position',
  };
  const upsertExecution = {
    name: 'raw_upsert_execution',
    text: `INSERT INTO webhook_executions (worker_id, seq, id, created_at, duration_ms, error_message, request_status, response_status, task_id, task_title, url, delivery_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT (worker_id, seq) DO UPDATE SET id = excluded.id`,
  };
  const upsertWebhook = {
    name: 'raw_upsert_webhook',
    text: `INSERT INTO webhooks (worker_id, url, origin, token, signing_secret, generation, updated_at, status, held_count, exhausted_in_span)
           VALUES ($1, $2, $3, $4, $5, $6, $7, 'active', 0, 0)
           ON CONFLICT (worker_id) DO UPDATE SET url = excluded.url, origin = excluded.origin, token = excluded.token,
             signing_secret = excluded.signing_secret, generation = excluded.generation, updated_at = excluded.updated_at`,
  };
  let next = 0;
  const caller = async () => {
    for (let i = next++; i < options.count; i = next++) {
      const e = options.row(i);
      const now = new Date().toISOString();
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        if (options.kind === 'record') {
          await client.query({ ...insertEvent, values: [`delivery-${e.deliveryId}`, 1, 'DeliveryAttempted', JSON.stringify(attemptData(e, now)), '{}', now] });
          await client.query({ ...upsertExecution, values: [e.workerId, i + 1, e.executionId, now, 12, null, 'success', 200, e.taskId, null, e.url, e.deliveryId] });
        } else {
          const data = { workerId: e.workerId, url: e.url, token: SEALED_TOKEN, signingSecret: SEALED_SIGNING_SECRET, configuredAt: now };
          const inserted = await client.query({ ...insertEvent, values: [`webhook-${e.workerId}`, 1, 'WebhookConfigured', JSON.stringify(data), '{}', now] });
          await client.query({ ...upsertWebhook, values: [e.workerId, e.url, e.origin, SEALED_TOKEN, SEALED_SIGNING_SECRET, inserted.rows[0].global_position, now] });
        }
        await client.query('COMMIT');
      } finally {
        client.release();
      }
    }
  };
  try {
    const started = performance.now();
    await Promise.all(Array.from({ length: options.callers }, caller));
    return performance.now() - started;
  } finally {
    await pool.end();
  }
}
