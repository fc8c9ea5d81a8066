import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { SenderOptions } from './sender.js';
import type { FromSender, ThreadRequest, ToSender } from './sender-thread.js';
import type { Transport, WireRequest, WireResult } from './transport.js';

/** Where the sender thread's code is: a module file, or (single executable) its bundled source. */
export type SenderThreadEntry = { file: string } | { source: string };

let entryOverride: SenderThreadEntry | undefined;

/** Lets the single executable hand over the bundled sender thread (it has no module files on disk). */
export function setSenderThreadEntry(entry: SenderThreadEntry): void {
  entryOverride = entry;
}

/**
 * The sender thread's module: beside this one in `dist`; when this code runs
 * from its TypeScript sources (the tests), the built one (`npm test` builds first).
 */
function defaultEntry(): SenderThreadEntry | null {
  const here = fileURLToPath(import.meta.url);
  const file = here.endsWith('.ts') ? fileURLToPath(new URL('../dist/sender-thread.js', import.meta.url)) : fileURLToPath(new URL('./sender-thread.js', import.meta.url));
  return existsSync(file) ? { file } : null;
}

/** Whether a thread of its own can be started for the sender here. */
export const senderThreadAvailable = (): boolean => (entryOverride ?? defaultEntry()) !== null;

/**
 * The send stage on a thread of its own: HTTP parsing, TLS and connection
 * handling leave the event loop that runs the API and the database, and the
 * second core does them. Requests made in one turn of the event loop travel
 * as one message, and so do results, so the messaging costs little per
 * attempt. The SSRF guard and every limit of the sender apply unchanged:
 * it is the same `Sender`, on that thread.
 */
export class ThreadTransport implements Transport {
  private worker: Worker;
  /** Whether `worker` runs: between a thread's unexpected end and its replacement's start, sends wait in the outbox. */
  private alive = false;
  private lastStartMs = 0;
  private readonly startThread: () => Worker;
  private readonly waiting = new Map<number, (result: WireResult) => void>();
  private outbox: ThreadRequest[] = [];
  private scheduled = false;
  private nextId = 0;
  private closed: Promise<void> | undefined;
  private onClosed: (() => void) | undefined;

  constructor(options: SenderOptions) {
    const entry = entryOverride ?? defaultEntry();
    if (entry === null) throw new Error('the sender thread is not built (npm run build)');
    // Its own flags, not the parent's: a parent run with a source-mode resolution condition (the tests) must not pass it on.
    const init = { workerData: { role: 'handinger-sender', options }, execArgv: [] };
    this.startThread = () => ('file' in entry ? new Worker(entry.file, init) : new Worker(entry.source, { ...init, eval: true }));
    this.worker = this.start();
  }

  private start(): Worker {
    const worker = this.startThread();
    this.alive = true;
    this.lastStartMs = Date.now();
    worker.on('message', (message: FromSender) => {
      if (message.type === 'closed') return this.onClosed?.();
      for (const result of message.batch) {
        const resolve = this.waiting.get(result.id);
        this.waiting.delete(result.id);
        resolve?.({ outcome: result.outcome, durationMs: result.durationMs });
      }
      if (this.waiting.size === 0 && this.closed === undefined) worker.unref();
    });
    // An uncaught error ends the thread: 'exit' follows and handles it.
    worker.on('error', () => undefined);
    worker.on('exit', () => this.ended(worker));
    // The thread keeps the process alive only while it owes answers (`post` refs it; sends on the wire, a close under way).
    worker.unref();
    return worker;
  }

  /**
   * A thread that ends leaves its attempts unanswered: they end as failures
   * (recorded, retried on the schedule). Unless a close ended it, a new
   * thread takes the sends that wait and those to come, at most one start a
   * second, so a thread that cannot start does not spin.
   */
  private ended(worker: Worker): void {
    if (worker !== this.worker) return;
    this.alive = false;
    for (const resolve of this.waiting.values()) resolve({ outcome: { responseStatus: null, transportError: 'sender thread stopped' }, durationMs: 0 });
    this.waiting.clear();
    this.outbox = [];
    if (this.closed !== undefined) return this.onClosed?.();
    setTimeout(
      () => {
        if (this.closed !== undefined) return;
        this.worker = this.start();
        this.post();
      },
      Math.max(0, this.lastStartMs + 1_000 - Date.now()),
    ).unref();
  }

  /** Test seam: ends the thread as a crash would (the transport starts another). */
  crashForTests(): Promise<number> {
    return this.worker.terminate();
  }

  send(request: WireRequest): Promise<WireResult> {
    return new Promise((resolve) => {
      const id = this.nextId++;
      this.waiting.set(id, resolve);
      this.outbox.push({ id, ...request });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(this.post);
      }
    });
  }

  private readonly post = (): void => {
    this.scheduled = false;
    // Without a thread the batch is kept for the next one.
    if (!this.alive || this.outbox.length === 0) return;
    const batch = this.outbox;
    this.outbox = [];
    // Owing answers: the thread keeps the process alive until they come (the pending setImmediate did until now).
    this.worker.ref();
    this.worker.postMessage({ type: 'send', batch } satisfies ToSender);
  };

  private end(type: 'close' | 'destroy'): Promise<void> {
    this.closed ??= new Promise<void>((resolve) => {
      this.onClosed = resolve;
      // Between a crash and the next start there is no thread to ask: nothing is on the wire.
      if (!this.alive) return resolve();
      this.worker.ref();
      this.post();
      this.worker.postMessage({ type } satisfies ToSender);
    }).then(() => this.worker.terminate().then(() => undefined));
    return this.closed;
  }

  close(): Promise<void> {
    return this.end('close');
  }

  destroy(): Promise<void> {
    return this.end('destroy');
  }
}
