import { Agent } from 'undici';
import { describeTransportError, outcomeOfStatus, timeoutMessage, type AttemptOutcome } from './outcome.js';
import { createConnector, type Resolver } from './ssrf-guard.js';

/** SPEC §5: the response body is read at most this far, then the connection is dropped. */
export const MAX_RESPONSE_BYTES = 64 * 1024;

export interface SenderOptions {
  timeoutMs: number;
  /** Connections kept per origin; the per-origin cap, so undici never queues an attempt behind another. */
  perOriginConcurrency: number;
  allowPrivateNetwork: boolean;
  /** Replaces the system resolver (tests of the SSRF guard). */
  resolve?: Resolver;
}

/**
 * POSTs one attempt and reports what came back, never throwing. One undici
 * Agent for every attempt: keep-alive pools per origin, redirects not
 * followed, the SSRF guard inside its connect. The whole attempt (DNS,
 * connect, TLS, headers, body) shares one deadline; the response body is
 * drained up to 64 KiB and discarded, never returned.
 */
export class Sender {
  private readonly agent: Agent;
  private readonly timeoutMs: number;

  constructor(options: SenderOptions) {
    this.timeoutMs = options.timeoutMs;
    this.agent = new Agent({
      connections: options.perOriginConcurrency,
      pipelining: 1,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      connect: createConnector({
        allowPrivateNetwork: options.allowPrivateNetwork,
        connectTimeoutMs: options.timeoutMs,
        ...(options.resolve ? { resolve: options.resolve } : {}),
      }),
    });
  }

  async send(url: string, headers: Record<string, string>, body: Buffer): Promise<AttemptOutcome> {
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.timeoutMs);
    try {
      const target = new URL(url);
      const response = await this.agent.request({
        origin: target.origin,
        path: target.pathname + target.search,
        method: 'POST',
        headers,
        body,
        signal: controller.signal,
      });
      // A status arrived: that is the outcome even if the body then stalls or overflows.
      await response.body.dump({ limit: MAX_RESPONSE_BYTES }).catch(() => undefined);
      return outcomeOfStatus(response.statusCode);
    } catch (error) {
      return { responseStatus: null, transportError: timedOut ? timeoutMessage(this.timeoutMs) : describeTransportError(error, this.timeoutMs) };
    } finally {
      clearTimeout(timer);
    }
  }

  /** Lets idle connections go; waits for requests still running. */
  close(): Promise<void> {
    return this.agent.close();
  }

  /** Aborts everything still running (a stop that ran out of patience). */
  destroy(): Promise<void> {
    return this.agent.destroy();
  }
}
