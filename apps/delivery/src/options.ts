import { NO_DELIVERY_OBSERVER, silentLogger, type DeliveryObserver, type Logger } from '@handinger-webhooks/contracts';
import { DEFAULT_DISABLE_AFTER_MS, DEFAULT_RETRY_SCHEDULE_MS } from '@handinger-webhooks/domain';

/**
 * How the delivery app runs. Only `version` and `allowPrivateNetwork` are
 * required; every other field has the default documented beside it
 * (SPEC §5 and §7). Parsing flags and environment variables is the CLI's job.
 */
export interface DeliveryOptions {
  /** Sent as `User-Agent: Handinger-Webhooks/<version>`. */
  version: string;
  /** `--allow-private-network`: when false, loopback, private, link-local… addresses are refused at connect time. */
  allowPrivateNetwork: boolean;
  /** Delays between attempts; N delays mean N + 1 attempts. Default: SPEC §5 (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h). */
  retryScheduleMs?: readonly number[];
  /**
   * A webhook whose every attempt failed for this long (and that exhausted a
   * notification's retries meanwhile) is disabled (SPEC §8.5). 0 turns it
   * off. Default 5 days.
   */
  disableAfterMs?: number;
  /** Longest one attempt may take, connect to last body byte. Default 10 000 ms. */
  timeoutMs?: number;
  /** Attempts in flight at once, all receivers together. Default 256. */
  globalConcurrency?: number;
  /** Attempts in flight at once to one origin (`scheme://host:port`). Default 16. */
  perOriginConcurrency?: number;
  /**
   * How often to look for work another process added (completions accepted
   * by a server, leases expired). Work added in this process wakes the loop at
   * once. Default 500 ms.
   */
  pollIntervalMs?: number;
  /** Attempts taken by one claim at most (one transaction). Default 64. */
  claimBatch?: number;
  /**
   * Send on a thread of its own (HTTP off the event loop that runs the API
   * and the database, on the second core). Default true; false keeps it on
   * this thread.
   */
  senderThread?: boolean;
  /**
   * Added to `timeoutMs` for the lease on a claimed attempt: time to record
   * the outcome. Another process re-sends the attempt only after the lease
   * lapses. Default 5 000 ms.
   */
  leaseMarginMs?: number;
  /**
   * How long `stop()` waits for in-flight attempts to finish and be recorded;
   * attempts still running then are abandoned unrecorded (their leases lapse
   * and a later run re-sends them). Default `timeoutMs + 2 000` ms, enough for
   * every attempt to reach its own deadline.
   */
  shutdownTimeoutMs?: number;
  /** Structured logger; never receives tokens, secrets or bodies. Default: silent. */
  logger?: Logger;
  /** Told of every attempt whose outcome is known (metrics, SPEC §10). Default: none. */
  observer?: DeliveryObserver;
}

export type ResolvedDeliveryOptions = Required<DeliveryOptions>;

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${value}`);
  return value;
}

function nonNegativeInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 0) throw new RangeError(`${name} must be a non-negative integer, got ${value}`);
  return value;
}

/** Fills in the defaults and rejects nonsense early (a zero cap would deliver nothing, silently). */
export function resolveOptions(options: DeliveryOptions): ResolvedDeliveryOptions {
  const timeoutMs = positiveInteger('timeoutMs', options.timeoutMs ?? 10_000);
  const retryScheduleMs = options.retryScheduleMs ?? DEFAULT_RETRY_SCHEDULE_MS;
  retryScheduleMs.forEach((delay, i) => nonNegativeInteger(`retryScheduleMs[${i}]`, delay));
  return {
    version: options.version,
    allowPrivateNetwork: options.allowPrivateNetwork,
    retryScheduleMs,
    disableAfterMs: nonNegativeInteger('disableAfterMs', options.disableAfterMs ?? DEFAULT_DISABLE_AFTER_MS),
    timeoutMs,
    globalConcurrency: positiveInteger('globalConcurrency', options.globalConcurrency ?? 256),
    perOriginConcurrency: positiveInteger('perOriginConcurrency', options.perOriginConcurrency ?? 16),
    pollIntervalMs: positiveInteger('pollIntervalMs', options.pollIntervalMs ?? 500),
    claimBatch: positiveInteger('claimBatch', options.claimBatch ?? 64),
    senderThread: options.senderThread ?? true,
    leaseMarginMs: nonNegativeInteger('leaseMarginMs', options.leaseMarginMs ?? 5_000),
    shutdownTimeoutMs: nonNegativeInteger('shutdownTimeoutMs', options.shutdownTimeoutMs ?? timeoutMs + 2_000),
    logger: options.logger ?? silentLogger,
    observer: options.observer ?? NO_DELIVERY_OBSERVER,
  };
}
