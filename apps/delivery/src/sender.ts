import { Agent, type Dispatcher } from 'undici';
import {
  describeTransportError,
  outcomeOfStatus,
  parseRetryAfter,
  RETRY_AFTER_STATUSES,
  timeoutMessage,
  TOO_MANY_INFORMATIONAL_MESSAGE,
  type AttemptOutcome,
} from './outcome.js';
import type { HeaderList } from '@handinger-webhooks/contracts';
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
 * At most this many informational (1xx) responses before the real one; one
 * more aborts the attempt. A legitimate server sends one or two (a 102
 * Processing, a 103 Early Hints), but a receiver that streams endless 102s
 * makes undici parse them back to back (each also refreshes its headers
 * timeout), stalling the event loop shared by every other attempt and the
 * API until the attempt's deadline.
 */
export const MAX_INFORMATIONAL_RESPONSES = 8;


/** A webhook URL split once for every attempt to it. */
interface Target {
  origin: string;
  path: string;
}

/** How many distinct URLs keep their parsed form. */
const TARGET_CACHE_SIZE = 1_000;

class DeadlineError extends Error {
  readonly code = 'E_DEADLINE';
}

class ResponseTooLargeError extends Error {
  readonly code = 'E_RESPONSE_TOO_LARGE';
}

class TooManyInformationalError extends Error {
  readonly code = 'E_TOO_MANY_INFORMATIONAL';
}

/**
 * One attempt on the wire, as an undici dispatch handler: no response
 * stream, no abort signal, no header parsing. The status is kept when it
 * arrives; the body is counted and dropped, and the connection aborted past
 * 64 KiB or past MAX_INFORMATIONAL_RESPONSES 1xx responses. `done` is called
 * exactly once.
 */
class Attempt implements Dispatcher.DispatchHandler {
  private status: number | null = null;
  private retryAfterMs: number | undefined;
  private received = 0;
  private informational = 0;
  private abortRequest: ((error?: Error) => void) | null = null;
  private settled = false;
  private timedOut = false;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly timeoutMs: number,
    private readonly done: (outcome: AttemptOutcome) => void,
  ) {
    this.timer = setTimeout(this.onDeadline, timeoutMs);
  }

  /** The whole attempt (queueing, DNS, connect, TLS, headers, body) ran out of time. */
  private readonly onDeadline = (): void => {
    this.timedOut = true;
    if (this.abortRequest !== null) {
      this.abortRequest(new DeadlineError(timeoutMessage(this.timeoutMs)));
      return;
    }
    // Not yet on a connection (still connecting): the outcome is known now; undici's own connect timeout ends the rest.
    this.settle(this.status === null ? { responseStatus: null, transportError: timeoutMessage(this.timeoutMs) } : this.outcomeOfStatus());
  };

  private outcomeOfStatus(): AttemptOutcome {
    const outcome = outcomeOfStatus(this.status!);
    return this.retryAfterMs === undefined ? outcome : { ...outcome, retryAfterMs: this.retryAfterMs };
  }

  private settle(outcome: AttemptOutcome): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    this.done(outcome);
  }

  onConnect(abort: (error?: Error) => void): void {
    if (this.settled) return abort(new DeadlineError(timeoutMessage(this.timeoutMs)));
    this.abortRequest = abort;
  }

  onHeaders(statusCode: number, headers: Buffer[]): boolean {
    if (statusCode >= 200) {
      this.status = statusCode;
      // Raw headers alternate name, value; only the two statuses of SPEC §8.6 read them.
      if (RETRY_AFTER_STATUSES.has(statusCode)) {
        for (let i = 0; i + 1 < headers.length; i += 2) {
          if (headers[i]!.length === 11 && headers[i]!.toString('latin1').toLowerCase() === 'retry-after') {
            this.retryAfterMs = parseRetryAfter(headers[i + 1]!.toString('latin1'), Date.now());
            break;
          }
        }
      }
      return true;
    }
    // 1xx informational responses precede the real one; a flood of them is cut short.
    if (++this.informational > MAX_INFORMATIONAL_RESPONSES) {
      this.settle({ responseStatus: null, transportError: TOO_MANY_INFORMATIONAL_MESSAGE });
      this.abortRequest?.(new TooManyInformationalError(TOO_MANY_INFORMATIONAL_MESSAGE));
      return false;
    }
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.received += chunk.length;
    if (this.received > MAX_RESPONSE_BYTES) {
      this.abortRequest?.(new ResponseTooLargeError('response body over 64 KiB'));
      return false;
    }
    return true;
  }

  onComplete(): void {
    this.settle(this.status === null ? { responseStatus: null, transportError: 'invalid HTTP response' } : this.outcomeOfStatus());
  }

  onError(error: Error): void {
    // A status arrived: that is the outcome even if the body then stalled or overflowed.
    if (this.status !== null) return this.settle(this.outcomeOfStatus());
    this.settle({ responseStatus: null, transportError: this.timedOut ? timeoutMessage(this.timeoutMs) : describeTransportError(error, this.timeoutMs) });
  }
}

/**
 * POSTs one attempt and reports what came back, never throwing. One undici
 * Agent for every attempt: keep-alive pools per origin (as many connections
 * as the per-origin cap, no pipelining), redirects not followed, the SSRF
 * guard inside its connect. The whole attempt (DNS, connect, TLS, headers,
 * body) shares one deadline; the response body is drained up to 64 KiB and
 * discarded, never returned.
 */
export class Sender {
  private readonly agent: Agent;
  private readonly timeoutMs: number;
  private readonly targets = new Map<string, Target>();

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

  private target(url: string): Target {
    let target = this.targets.get(url);
    if (target === undefined) {
      const parsed = new URL(url);
      target = { origin: parsed.origin, path: parsed.pathname + parsed.search };
      if (this.targets.size >= TARGET_CACHE_SIZE) this.targets.clear();
      this.targets.set(url, target);
    }
    return target;
  }

  send(url: string, headers: HeaderList, body: Buffer): Promise<AttemptOutcome> {
    return new Promise((resolve) => {
      const attempt = new Attempt(this.timeoutMs, resolve);
      try {
        const { origin, path } = this.target(url);
        this.agent.dispatch({ origin, path, method: 'POST', headers, body }, attempt);
      } catch (error) {
        attempt.onError(error as Error);
      }
    });
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
