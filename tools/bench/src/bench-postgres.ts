import { startPostgres, type PostgresServer } from '@handinger-webhooks/testing';
import type { BenchContext } from './context.js';

/**
 * The run's PostgreSQL server (started on first use, stopped by the run's
 * cleanup): a throwaway cluster on a Unix socket, but with durability on
 * (fsync, synchronous commit, full page writes), as a production server
 * has it, so both our side and the raw or peer side pay for real commits.
 */
export async function benchPostgres(ctx: BenchContext): Promise<PostgresServer> {
  const cached = ctx.shared.get('postgres') as Promise<PostgresServer> | undefined;
  if (cached) return cached;
  const started = startPostgres({
    port: 54390,
    settings: { fsync: true, synchronous_commit: true, full_page_writes: true, max_connections: 300, shared_buffers: '128MB' },
  });
  ctx.shared.set('postgres', started);
  ctx.onCleanup(async () => (await started).stop());
  return started;
}

/** Why PostgreSQL cannot be used in this run, or null. */
export async function postgresUnavailable(ctx: BenchContext): Promise<string | null> {
  try {
    await benchPostgres(ctx);
    return null;
  } catch (error) {
    return `PostgreSQL could not be started: ${(error as Error).message.split('\n')[0]}`;
  }
}
