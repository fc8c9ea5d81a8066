import type { ServerResponse } from 'node:http';
import type { TRPCError } from '@trpc/server';
import { httpStatusOf, restErrorBody } from '../errors.js';

const NO_RETRY: Record<string, string> = { 'x-should-retry': 'false' };

/** How long a client should wait before retrying a 503 (storage unavailable): long enough not to hammer it, short enough to recover soon. */
export const RETRY_AFTER_SECONDS = 5;
const RETRY_LATER: Record<string, string> = { 'retry-after': String(RETRY_AFTER_SECONDS) };

/**
 * Headers an error carries: every 4xx says not to retry (the official SDK,
 * Stainless, retries some 4xx such as 409, 408, 429 unless told, and a
 * refused request will be refused again); a 503 says when to retry (SPEC
 * §7). Other 5xx keep the SDK's default (retry).
 */
export function errorHeaders(status: number): Record<string, string> {
  if (status === 503) return RETRY_LATER;
  return status >= 400 && status < 500 ? NO_RETRY : {};
}

/** Writes a JSON response (a pre-serialised string is sent as is). */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const payload = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(payload)),
    ...headers,
  });
  res.end(payload);
}

/** Writes a REST error: `{ code, message }` with its status (SPEC §3). */
export function sendError(res: ServerResponse, error: TRPCError, headers: Record<string, string> = {}): void {
  const status = httpStatusOf(error);
  sendJson(res, status, restErrorBody(error), { ...errorHeaders(status), ...headers });
}
