import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '@handinger-webhooks/contracts';

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

/** A node:http server around the API handler, logging one line per request (never its headers or body). */
export function createHttpServer(handler: (req: IncomingMessage, res: ServerResponse) => void, logger: Logger): HttpServer {
  const server = createServer((req, res) => {
    const started = performance.now();
    res.once('finish', () => {
      const path = (req.url ?? '/').split('?')[0];
      logger.info(
        { method: req.method, path, status: res.statusCode, durationMs: Math.round(performance.now() - started) },
        'request',
      );
    });
    handler(req, res);
  });
  server.keepAliveTimeout = 5_000;

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
