import { monotonicFactory } from 'ulid';
import { secureRandomFloat } from './random-pool.js';

/** Crockford base32, as ULIDs are written. */
const ULID = '[0-9A-HJKMNP-TV-Z]{26}';
/** Organization ids are slugs such as `org_123`; they may contain underscores. */
const ORG = '[A-Za-z0-9][A-Za-z0-9_-]{0,63}';

const WORKER_ID = new RegExp(`^t_(${ORG})_w_(${ULID})$`);
const ORG_ID = new RegExp(`^${ORG}$`);

/** `t_<orgId>_w_<ULID>`, e.g. `t_org_123_w_01HZY2ZJQ8G7K42W2D7WF6V4GM`. */
export const workerId = (organizationId: string, ulid: string): string => `t_${organizationId}_w_${ulid}`;

/** The organization a worker id belongs to, or `null` when the id is malformed. */
export function parseWorkerId(id: string): { organizationId: string; ulid: string } | null {
  const match = WORKER_ID.exec(id);
  return match ? { organizationId: match[1]!, ulid: match[2]! } : null;
}

export const isOrganizationId = (id: string): boolean => ORG_ID.test(id);

/** Every id the service mints. Injected into command handlers so tests can fix them. */
export interface IdGenerator {
  /** A bare ULID (used inside worker ids). */
  ulid(): string;
  executionId(): string;
  apiKeyId(): string;
  deliveryId(): string;
  recoveryId(): string;
  portalSessionId(): string;
}

/**
 * ULID-based ids. Monotonic within the process, so ids minted in the same
 * millisecond still sort in creation order (executions are paged by `id` on ties).
 */
export function createIdGenerator(now: () => number = Date.now): IdGenerator {
  // ulid's default PRNG makes one getRandomValues call per character; the pool makes it one per few hundred ids.
  const next = monotonicFactory(secureRandomFloat);
  const ulid = () => next(now());
  return {
    ulid,
    executionId: () => `whe_${ulid()}`,
    apiKeyId: () => `key_${ulid()}`,
    deliveryId: () => `msg_${ulid()}`,
    recoveryId: () => `rec_${ulid()}`,
    portalSessionId: () => `ps_${ulid()}`,
  };
}
