import { performance } from 'node:perf_hooks';
import type { AttemptOutcome } from './outcome.js';
import type { HeaderList } from '@handinger-webhooks/contracts';
import { Sender, type SenderOptions } from './sender.js';

/** One request for the wire. */
export interface WireRequest {
  url: string;
  headers: HeaderList;
  body: Buffer;
}

/** What came back, and how long the whole attempt took. */
export interface WireResult {
  outcome: AttemptOutcome;
  durationMs: number;
}

/**
 * The send stage's port: where requests go out. Two implementations: on
 * this thread (`InThreadTransport`), or on a thread of its own
 * (`ThreadTransport`), which takes HTTP off the event loop that also runs
 * the API and the database.
 */
export interface Transport {
  /** Sends one attempt; never rejects (every failure is an outcome). */
  send(request: WireRequest): Promise<WireResult>;
  /** Lets idle connections go once requests still running are done. */
  close(): Promise<void>;
  /** Aborts everything still running. */
  destroy(): Promise<void>;
}

/** The sender on the caller's own thread. */
export class InThreadTransport implements Transport {
  private readonly sender: Sender;

  constructor(options: SenderOptions) {
    this.sender = new Sender(options);
  }

  async send(request: WireRequest): Promise<WireResult> {
    const started = performance.now();
    const outcome = await this.sender.send(request.url, request.headers, request.body);
    return { outcome, durationMs: Math.round(performance.now() - started) };
  }

  close(): Promise<void> {
    return this.sender.close();
  }

  destroy(): Promise<void> {
    return this.sender.destroy();
  }
}
