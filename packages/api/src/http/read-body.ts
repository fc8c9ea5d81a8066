import type { IncomingMessage } from 'node:http';

/** SPEC §3: bodies over 1 MiB are refused with 413, on both surfaces. */
export const MAX_BODY_BYTES = 1024 * 1024;

export class BodyTooLargeError extends Error {
  override readonly name = 'BodyTooLargeError';
  constructor(readonly limit: number) {
    super(`Request body exceeds ${limit} bytes`);
  }
}

/** The client went away before sending its whole body; there is no one to answer. */
export class RequestAbortedError extends Error {
  override readonly name = 'RequestAbortedError';
}

const EMPTY = Buffer.alloc(0);

/**
 * A request without `Transfer-Encoding` and without a non-zero
 * `Content-Length` has no body (RFC 9112 §6.3): most GETs, which then need
 * no stream reading at all.
 */
const hasNoBody = (req: IncomingMessage): boolean =>
  req.headers['transfer-encoding'] === undefined && (req.headers['content-length'] === undefined || req.headers['content-length'] === '0');

/**
 * Reads the whole request body, at most `limit` bytes. A `Content-Length`
 * above the limit is refused before reading; otherwise bytes are counted as
 * they stream, so a missing or false length (chunked uploads) cannot get
 * past the limit or make the server buffer more than it. On overflow the
 * rest of the body is drained and discarded, never buffered, so the client
 * can read the 413.
 */
export function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  if (hasNoBody(req)) return Promise.resolve(EMPTY);
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    return Promise.reject(new BodyTooLargeError(limit));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const settle = (error?: Error) => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onAbort);
      req.off('close', onAbort);
      if (error) reject(error);
      else resolve(Buffer.concat(chunks, size));
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) {
        chunks.push(chunk);
        return;
      }
      chunks.length = 0;
      settle(new BodyTooLargeError(limit));
      req.resume();
    };
    const onEnd = () => settle();
    const onAbort = () => settle(new RequestAbortedError('request aborted while reading its body'));
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onAbort);
    req.on('close', onAbort);
  });
}
