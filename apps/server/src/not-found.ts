import type { IncomingMessage, ServerResponse } from 'node:http';

/** The answer of a process without the API to any path it does not serve: SPEC §3's JSON error. */
export function sendNotFound(req: IncomingMessage, res: ServerResponse): void {
  req.resume();
  const body = JSON.stringify({ code: 'NOT_FOUND', message: 'No such route: this process serves /metrics, /healthz and /readyz only' });
  res.writeHead(404, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
