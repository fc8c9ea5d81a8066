import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** One request as the receiver saw it. */
export interface ReceivedRequest {
  /** 0-based arrival order. */
  index: number;
  method: string;
  /** Path and query, e.g. `/hooks?x=1`. */
  path: string;
  /** Lower-cased header names, as node:http gives them. */
  headers: IncomingHttpHeaders;
  /** The raw body bytes and their UTF-8 text (what a signature is computed over). */
  rawBody: Buffer;
  body: string;
  /** `Date.now()` when the whole body had arrived. */
  receivedAt: number;
}

/**
 * What to answer. `hang: true` never answers (the socket stays open until the
 * client gives up or the receiver closes); `redirect` answers with a
 * `Location` header (status 302 unless given); `delayMs` waits first.
 */
export interface Reply {
  status?: number;
  headers?: Record<string, string>;
  body?: string | Buffer;
  delayMs?: number;
  redirect?: string;
  hang?: boolean;
}

/** Decides the reply to one request; may be async (e.g. wait on a gate the test opens). */
export type ReplyHandler = (request: ReceivedRequest) => Reply | Promise<Reply>;

export interface Receiver {
  /** `http://127.0.0.1:<port>` (or `http://[::1]:<port>`), no trailing slash. */
  url: string;
  host: string;
  port: number;
  /** Every request received so far, in arrival order. */
  requests: ReceivedRequest[];
  /** TCP connections accepted so far (0 proves nothing even connected). */
  connections(): number;
  /** Requests received and not yet answered (or abandoned by the client). */
  inFlight(): number;
  /** The highest `inFlight()` seen. */
  maxInFlight(): number;
  /**
   * Queues replies used, in order, by the next requests; after them the
   * handler (or 200) answers. A promise holds its request until it settles
   * (a gate the test opens).
   */
  script(...replies: (Reply | Promise<Reply>)[]): void;
  /** Resolves with the first `count` requests once that many have arrived; rejects after `timeoutMs`. */
  waitForRequests(count: number, timeoutMs?: number): Promise<ReceivedRequest[]>;
  /** Stops listening and destroys every open connection (hanging requests included). */
  close(): Promise<void>;
}

export interface ReceiverOptions {
  /** Interface to listen on, default `127.0.0.1` (`::1` for IPv6 loopback). */
  host?: string;
  /** Shared counter across receivers, e.g. to observe a global concurrency cap. */
  sharedInFlight?: { current: number; max: number };
}

/**
 * A real HTTP endpoint for delivery tests: records every request exactly as
 * it arrived (raw body included, to verify signatures) and answers as
 * scripted, so tests observe the network behaviour of the sender rather
 * than mocks. Waiting is event-based: no polling, no sleeps.
 */
export async function startReceiver(handler?: ReplyHandler, options: ReceiverOptions = {}): Promise<Receiver> {
  const host = options.host ?? '127.0.0.1';
  const requests: ReceivedRequest[] = [];
  const scripted: (Reply | Promise<Reply>)[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const shared = options.sharedInFlight;
  let connections = 0;
  let inFlight = 0;
  let maxInFlight = 0;

  const answer = async (reply: Reply, response: ServerResponse): Promise<void> => {
    if (reply.delayMs) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => (timers.delete(timer), resolve()), reply.delayMs);
        timers.add(timer);
      });
    }
    if (reply.hang || response.destroyed) return;
    const headers: Record<string, string> = { ...reply.headers };
    if (reply.redirect !== undefined) headers.location = reply.redirect;
    response.writeHead(reply.status ?? (reply.redirect !== undefined ? 302 : 200), headers);
    response.end(reply.body);
  };

  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    if (shared) shared.max = Math.max(shared.max, ++shared.current);
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      inFlight--;
      if (shared) shared.current--;
    };
    response.on('finish', finish);
    response.on('close', finish);

    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const rawBody = Buffer.concat(chunks);
      const received: ReceivedRequest = {
        index: requests.length,
        method: request.method ?? '',
        path: request.url ?? '',
        headers: request.headers,
        rawBody,
        body: rawBody.toString('utf8'),
        receivedAt: Date.now(),
      };
      requests.push(received);
      for (const waiter of [...waiters]) {
        if (requests.length >= waiter.count) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve();
        }
      }
      const next = scripted.shift();
      Promise.resolve(next ?? (handler ? handler(received) : {}))
        .then((reply) => answer(reply, response))
        .catch(() => response.destroy());
    });
  });
  server.on('connection', (socket: Socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;

  return {
    url: `http://${urlHost}:${port}`,
    host,
    port,
    requests,
    connections: () => connections,
    inFlight: () => inFlight,
    maxInFlight: () => maxInFlight,
    script: (...replies) => void scripted.push(...replies),
    waitForRequests(count, timeoutMs = 15_000) {
      if (requests.length >= count) return Promise.resolve(requests.slice(0, count));
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(waiter), 1);
          reject(new Error(`receiver got ${requests.length} of ${count} requests within ${timeoutMs} ms`));
        }, timeoutMs);
        const waiter = { count, resolve: () => (clearTimeout(timer), resolve(requests.slice(0, count))) };
        waiters.push(waiter);
      });
    },
    close() {
      for (const timer of timers) clearTimeout(timer);
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
