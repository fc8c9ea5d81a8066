import type { IncomingMessage, ServerResponse } from 'node:http';
import { TRPCError } from '@trpc/server';
import { nodeHTTPRequestHandler } from '@trpc/server/adapters/node-http';
import { createContextFactory } from '../context.js';
import type { ApiServices } from '../options.js';
import type { AppRouter } from '../router.js';
import { MAX_BODY_BYTES } from './read-body.js';
import { markBodyAsJson, parseJson, readBodyText } from './request-body.js';
import { reportUnexpected } from './report-unexpected.js';
import { createResponseMeta } from './response-meta.js';

export const TRPC_PREFIX = '/trpc';

/** SPEC §3: a batch of more calls is refused whole, before any of them runs. */
export const MAX_BATCH_CALLS = 50;

/** The number of calls a tRPC request makes: its comma-separated procedure paths when batched (tRPC splits the decoded path). */
function callsIn(url: URL): number {
  if (url.searchParams.get('batch') !== '1') return 1;
  let path = url.pathname;
  try {
    path = decodeURIComponent(path);
  } catch {
    // Malformed percent-encoding: tRPC refuses the path itself.
  }
  return path.split(',').length;
}

/**
 * Reads and checks a tRPC request's input before tRPC sees it: the body
 * (1 MiB limit, JSON, nesting depth) or the `input` query parameter of a
 * GET, and the size of a batch. tRPC would turn a malformed `input` into a
 * 500; here it is a 400 `PARSE_ERROR`.
 */
async function checkInput(req: IncomingMessage, url: URL): Promise<{ body: string } | { error: TRPCError }> {
  const read = await readBodyText(req);
  if ('error' in read) return read;
  const calls = callsIn(url);
  if (calls > MAX_BATCH_CALLS) {
    return { error: new TRPCError({ code: 'BAD_REQUEST', message: `batch: must hold at most ${MAX_BATCH_CALLS} calls, got ${calls}` }) };
  }
  if (req.method === 'GET') {
    const input = url.searchParams.get('input');
    if (input !== null) {
      const parsed = parseJson(input, 'input');
      if ('error' in parsed) return parsed;
    }
    return { body: '' };
  }
  if (read.text.trim() !== '') {
    const parsed = parseJson(read.text, 'body');
    if ('error' in parsed) return parsed;
  }
  return { body: read.text };
}

/**
 * The tRPC surface (`/trpc/*`) with tRPC's default conventions (queries by
 * GET, mutations by POST, plain JSON, batching). The body read here is
 * handed over as `req.body`; a refused request is answered by tRPC itself
 * (through its `middleware` hook), so even those errors arrive in tRPC's
 * envelope and `@trpc/client` can read them.
 */
export function createTrpcHandler(appRouter: AppRouter, services: ApiServices) {
  const createContext = createContextFactory(services.app.readModels);
  const responseMeta = createResponseMeta();
  const onError = reportUnexpected(services.logger, 'trpc', services.storageOutage);

  return async (req: IncomingMessage & { body?: unknown }, res: ServerResponse, url: URL): Promise<void> => {
    const checked = await checkInput(req, url);
    req.body = 'body' in checked ? checked.body : '';
    markBodyAsJson(req);
    if ('error' in checked && checked.error.code === 'PAYLOAD_TOO_LARGE') res.setHeader('connection', 'close');

    await nodeHTTPRequestHandler({
      router: appRouter,
      req,
      res,
      path: url.pathname.slice(TRPC_PREFIX.length + 1),
      createContext,
      responseMeta,
      onError,
      maxBodySize: MAX_BODY_BYTES,
      allowBatching: true,
      ...('error' in checked ? { middleware: (_req: unknown, _res: unknown, next: (error?: unknown) => void) => next(checked.error) } : {}),
    });
  };
}
