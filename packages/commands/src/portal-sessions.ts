import { streams, type IdGenerator } from '@handinger-webhooks/contracts';
import { DomainError, portalSessionDecider } from '@handinger-webhooks/domain';
import { ConcurrencyError, type Database, type EventLog } from '@handinger-webhooks/event-store';
import type { ReadModels } from '@handinger-webhooks/projections';
import type { Actor } from './commands.js';
import { handle } from './handle.js';
import { generatePortalCredential, hashApiKey } from './secrets.js';

export interface PortalSessionDependencies {
  database: Database;
  log: EventLog;
  readModels: ReadModels;
  ids: IdGenerator;
  clock?: () => Date;
}

/** How many times the command is decided again after losing a race for its stream (as `Commands`). */
const CONCURRENCY_RETRIES = 5;

/** A new portal link's credential (only ever returned here: the log holds its hash), its id and its end. */
export interface CreatedPortalSession {
  credential: string;
  sessionId: string;
  expiresAt: string;
}

/**
 * Commands on portal links (SPEC §9.1), beside `Commands` (same transaction
 * and retry rules) so the portal feature stays in files of its own.
 */
export class PortalSessionCommands {
  private readonly clock: () => Date;

  constructor(private readonly deps: PortalSessionDependencies) {
    this.clock = deps.clock ?? (() => new Date());
  }

  /**
   * Creates a portal session for the worker's webhook, bound to the
   * webhook's current generation. @throws DomainError `worker_not_found`
   * (404), `webhook_not_configured` (409), `portal_session_lifetime` (400).
   */
  async create(workerId: string, request: { expiresInSeconds: number; readOnly: boolean }, actor?: Actor): Promise<CreatedPortalSession> {
    const { database, log, readModels, ids } = this.deps;
    for (let attempt = 1; ; attempt++) {
      try {
        return await database.transaction(async (tx) => {
          const worker = await readModels.worker(workerId, { sql: tx, lock: true });
          if (!worker || worker.deleted_at !== null) throw new DomainError('not_found', 'worker_not_found', `worker ${workerId} not found`);
          const webhook = await readModels.webhook(workerId, { sql: tx, lock: true });
          const credential = generatePortalCredential();
          const sessionId = ids.portalSessionId();
          const [created] = await handle(
            tx,
            log,
            portalSessionDecider,
            streams.portalSession(sessionId),
            {
              type: 'CreatePortalSession',
              sessionId,
              workerId,
              credentialHash: hashApiKey(credential),
              readOnly: request.readOnly,
              expiresInSeconds: request.expiresInSeconds,
              webhook: webhook ? { generation: webhook.generation } : null,
              now: this.clock().toISOString(),
            },
            actor ? { actor: actor.keyId } : undefined,
          );
          return { credential, sessionId, expiresAt: created!.data.expiresAt };
        });
      } catch (error) {
        if (!(error instanceof ConcurrencyError) || attempt >= CONCURRENCY_RETRIES) throw error;
      }
    }
  }
}
