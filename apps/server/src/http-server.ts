import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { throttledLog, type Logger } from '@handinger-webhooks/contracts';

/** SPEC §3: a request whose headers and body have not all arrived within 30 s is answered 408 (then closed). */
export const REQUEST_TIMEOUT_MS = 30_000;
/** The headers alone get the same 30 s (Node requires it to be at most the request timeout). */
export const HEADERS_TIMEOUT_MS = 30_000;
/**
 * How often Node checks the two timeouts above. Its default (30 s) would let
 * a stalled request live up to 60 s; checked every second, it is cut within
 * 31 s. The check walks the open connections in C++, cheap at this rate.
 */
export const CONNECTIONS_CHECKING_INTERVAL_MS = 1_000;
/** Idle keep-alive connections are closed after this long. */
export const KEEP_ALIVE_TIMEOUT_MS = 5_000;
/**
 * Open connections beyond this are refused (closed as soon as accepted), so
 * a client opening idle sockets cannot exhaust file descriptors or memory;
 * the ones already open keep being served. Far above what the clients of a
 * self-hosted webhook API open, and half of Linux's default hard limit on
 * open files (4096, which Node raises its soft limit to), leaving the rest
 * to delivery's outgoing connections (256 in flight by default) and the
 * database.
 */
export const MAX_CONNECTIONS = 2_048;
/** At most one log line per this long about refused connections (a flood must not flood the log too). */
const DROP_LOG_INTERVAL_MS = 60_000;

export interface HttpServerOptions {
  /** Whole request (headers and body), default REQUEST_TIMEOUT_MS; 0 disables. */
  requestTimeoutMs?: number;
  /** Headers only, default HEADERS_TIMEOUT_MS; at most `requestTimeoutMs`. */
  headersTimeoutMs?: number;
  /** How often the two timeouts are checked, default CONNECTIONS_CHECKING_INTERVAL_MS. */
  connectionsCheckingIntervalMs?: number;
  /** Open connections cap, default MAX_CONNECTIONS. */
  maxConnections?: number;
  /** Called once per answered request, with how long it took (metrics). */
  onResponse?: (req: IncomingMessage, res: ServerResponse, seconds: number) => void;
}

export interface HttpServer {
  server: Server;
  /** Resolves with the bound address once listening (port 0 picks a free port). */
  listen(host: string, port: number): Promise<AddressInfo>;
  /**
   * Graceful close: stop accepting, let in-flight requests finish (idle
   * keep-alive connections are closed at once), and after `graceMs` cut what is left.
   */
  close(graceMs: number): Promise<void>;
}

/** SPEC §3's error body for what Node's parser rejects before the API handler sees a request. */
interface ClientErrorAnswer {
  status: number;
  code: 'BAD_REQUEST' | 'TIMEOUT' | 'PAYLOAD_TOO_LARGE';
  message: string;
}

/**
 * The answer to a request Node refused on its own (parse error, headers too
 * large, timeout), or `null` for a socket error (reset, broken pipe…) that
 * only needs the socket destroyed. Messages come from error codes, never
 * from the bytes received.
 */
function answerFor(code: string | undefined, requestTimeoutMs: number): ClientErrorAnswer | null {
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return { status: 408, code: 'TIMEOUT', message: `request headers and body not received within ${requestTimeoutMs} ms` };
  }
  if (code === undefined || !code.startsWith('HPE_')) return null;
  switch (code) {
    // tRPC has no code for 431: the status says what happened, the code keeps to tRPC's set (it is a bad request).
    case 'HPE_HEADER_OVERFLOW':
      return { status: 431, code: 'BAD_REQUEST', message: 'request headers too large' };
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return { status: 413, code: 'PAYLOAD_TOO_LARGE', message: 'chunk extensions too large' };
    case 'HPE_INVALID_METHOD':
      return { status: 400, code: 'BAD_REQUEST', message: 'malformed HTTP request: invalid method' };
    case 'HPE_INVALID_URL':
      return { status: 400, code: 'BAD_REQUEST', message: 'malformed HTTP request: invalid URL' };
    case 'HPE_INVALID_VERSION':
      return { status: 400, code: 'BAD_REQUEST', message: 'malformed HTTP request: invalid HTTP version' };
    case 'HPE_INVALID_HEADER_TOKEN':
      return { status: 400, code: 'BAD_REQUEST', message: 'malformed HTTP request: invalid header' };
    case 'HPE_INVALID_CONTENT_LENGTH':
    case 'HPE_UNEXPECTED_CONTENT_LENGTH':
      return { status: 400, code: 'BAD_REQUEST', message: 'malformed HTTP request: invalid Content-Length' };
    case 'HPE_INVALID_TRANSFER_ENCODING':
    case 'HPE_INVALID_CHUNK_SIZE':
      return { status: 400, code: 'BAD_REQUEST', message: 'malformed HTTP request: invalid chunked body' };
    default:
      return { status: 400, code: 'BAD_REQUEST', message: 'malformed HTTP request' };
  }
}

/** A complete HTTP/1.1 response to write straight onto the socket (there is no ServerResponse for it). */
function rawResponse({ status, code, message }: ClientErrorAnswer): string {
  const body = JSON.stringify({ code, message });
  return (
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n` +
    'content-type: application/json; charset=utf-8\r\n' +
    `content-length: ${Buffer.byteLength(body)}\r\n` +
    'connection: close\r\n' +
    '\r\n' +
    body
  );
}

/** A node:http server around the API handler, logging one line per request (never its headers or body). */
export function createHttpServer(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  logger: Logger,
  options: HttpServerOptions = {},
): HttpServer {
  const requestTimeoutMs = options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;
  const maxConnections = options.maxConnections ?? MAX_CONNECTIONS;
  /** Responses not yet finished, per socket: a raw answer must not be written into the middle of one. */
  const inFlight = new WeakMap<Duplex, Set<ServerResponse>>();

  const server = createServer(
    {
      requestTimeout: requestTimeoutMs,
      headersTimeout: options.headersTimeoutMs ?? Math.min(HEADERS_TIMEOUT_MS, requestTimeoutMs || HEADERS_TIMEOUT_MS),
      connectionsCheckingInterval: options.connectionsCheckingIntervalMs ?? CONNECTIONS_CHECKING_INTERVAL_MS,
      keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    },
    (req, res) => {
      const started = performance.now();
      const responses = inFlight.get(req.socket) ?? new Set<ServerResponse>();
      inFlight.set(req.socket, responses);
      responses.add(res);
      res.once('close', () => responses.delete(res));
      res.once('finish', () => {
        responses.delete(res);
        const elapsedMs = performance.now() - started;
        options.onResponse?.(req, res, elapsedMs / 1000);
        const path = (req.url ?? '/').split('?')[0];
        logger.info({ method: req.method, path, status: res.statusCode, durationMs: Math.round(elapsedMs) }, 'request');
      });
      handler(req, res);
    },
  );
  server.maxConnections = maxConnections;

  // Node's own answers to what it rejects carry no body; these carry SPEC §3's JSON error. Never throws.
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    try {
      const answer = answerFor(error.code, requestTimeoutMs);
      const responseStarted = [...(inFlight.get(socket) ?? [])].some((res) => res.headersSent);
      if (answer !== null && socket.writable && !responseStarted) {
        logger.debug({ code: error.code, status: answer.status }, 'client error');
        socket.write(rawResponse(answer));
      }
    } catch {
      // Nothing to add: the socket goes either way.
    }
    socket.destroy();
  });

  const dropLog = throttledLog(DROP_LOG_INTERVAL_MS);
  server.on('drop', () => dropLog((suppressed) => logger.warn({ maxConnections, refused: suppressed + 1 }, 'connections refused: too many open connections')));

  return {
    server,
    listen: (host, port) =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve(server.address() as AddressInfo);
        });
      }),
    close: (graceMs) =>
      new Promise((resolve) => {
        const timer = setTimeout(() => server.closeAllConnections(), graceMs);
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
}
