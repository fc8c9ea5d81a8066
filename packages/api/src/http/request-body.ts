import type { IncomingMessage } from 'node:http';
import { TRPCError } from '@trpc/server';
import { MAX_JSON_DEPTH, exceedsJsonDepth } from './json-depth.js';
import { BodyTooLargeError, MAX_BODY_BYTES, readBody } from './read-body.js';

/** The body as text, or the client error that refuses the request (413). Rethrows an aborted request. */
export async function readBodyText(req: IncomingMessage): Promise<{ text: string } | { error: TRPCError }> {
  try {
    return { text: (await readBody(req, MAX_BODY_BYTES)).toString('utf8') };
  } catch (error) {
    if (error instanceof BodyTooLargeError) {
      return { error: new TRPCError({ code: 'PAYLOAD_TOO_LARGE', message: `body: must be at most ${MAX_BODY_BYTES} bytes (1 MiB)` }) };
    }
    throw error;
  }
}

/**
 * Parses JSON text; a malformed document is a 400 `PARSE_ERROR` naming where
 * it was found, and one nested deeper than SPEC §3 allows a 400 naming the
 * limit, refused before it is parsed (so nothing downstream ever recurses
 * through it).
 */
export function parseJson(text: string, where: string): { value: unknown } | { error: TRPCError } {
  if (exceedsJsonDepth(text)) {
    return { error: new TRPCError({ code: 'BAD_REQUEST', message: `${where}: JSON must not be nested deeper than ${MAX_JSON_DEPTH} levels` }) };
  }
  try {
    return { value: JSON.parse(text) as unknown };
  } catch {
    return { error: new TRPCError({ code: 'PARSE_ERROR', message: `${where}: malformed JSON` }) };
  }
}

/**
 * Every request body is JSON, whatever its `Content-Type` says (curl's
 * default form type, a charset parameter, or none at all). tRPC's adapter
 * is stricter, so once the body has been read and checked here the header
 * is normalised for it. (The REST surface parses the body itself.)
 */
export function markBodyAsJson(req: IncomingMessage): void {
  req.headers['content-type'] = 'application/json';
}
