/**
 * The sender's own thread (see `ThreadTransport`): a `Sender` fed by
 * messages from the delivery loop. Requests arrive in batches; results go
 * back in batches, one message per turn of this thread's event loop.
 *
 *   in:  { type: 'send', batch: { id, url, headers, body }[] } | { type: 'close' } | { type: 'destroy' }
 *   out: { type: 'results', batch: { id, outcome, durationMs }[] } | { type: 'closed' }
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { InThreadTransport, type WireRequest, type WireResult } from './transport.js';
import type { SenderOptions } from './sender.js';

export type ThreadRequest = WireRequest & { id: number };
export type ThreadResult = WireResult & { id: number };
export type ToSender = { type: 'send'; batch: ThreadRequest[] } | { type: 'close' } | { type: 'destroy' };
export type FromSender = { type: 'results'; batch: ThreadResult[] } | { type: 'closed' };

/** Runs the sender loop on this worker thread (called when this module is the thread's entry). */
export function runSenderThread(options: SenderOptions): void {
  const port = parentPort!;
  const transport = new InThreadTransport(options);
  let pending: ThreadResult[] = [];
  let flushing = false;
  const flush = () => {
    flushing = false;
    const batch = pending;
    pending = [];
    port.postMessage({ type: 'results', batch } satisfies FromSender);
  };
  port.on('message', (message: ToSender) => {
    if (message.type === 'send') {
      for (const request of message.batch) {
        // Bodies arrive as Uint8Array views (structured clone): undici takes them as they are.
        void transport.send({ ...request, body: Buffer.from(request.body.buffer, request.body.byteOffset, request.body.byteLength) }).then((result) => {
          pending.push({ id: request.id, ...result });
          if (!flushing) {
            flushing = true;
            setImmediate(flush);
          }
        });
      }
    } else {
      void (message.type === 'close' ? transport.close() : transport.destroy()).finally(() => {
        if (pending.length > 0) flush();
        port.postMessage({ type: 'closed' } satisfies FromSender);
      });
    }
  });
}

if (!isMainThread && (workerData as { role?: string } | null)?.role === 'handinger-sender') {
  runSenderThread((workerData as { options: SenderOptions }).options);
}
