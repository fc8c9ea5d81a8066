import type { IncomingMessage, ServerResponse } from 'node:http';
import { TRPCError } from '@trpc/server';
import { createOpenApiNodeHttpHandler } from 'trpc-to-openapi';
import { createContextFactory } from '../context.js';
import { successStatuses } from '../openapi.js';
import type { ApiServices } from '../options.js';
import type { AppRouter } from '../router.js';
import { MAX_BODY_BYTES } from './read-body.js';
import { markBodyAsJson, parseJson, readBodyText } from './request-body.js';
import { reportUnexpected } from './report-unexpected.js';
import { createResponseMeta } from './response-meta.js';
import { sendError } from './respond.js';

/** Methods whose body trpc-to-openapi reads (it takes GET and DELETE input from the query). */
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The REST surface (`/api/*`), generated from the procedures' `openapi`
 * meta by trpc-to-openapi, with its input handling taken over: the body is
 * read here once (1 MiB limit), parsed as JSON whatever the content type,
 * and must be an object (trpc-to-openapi would spread an array or a string
 * into an object and accept it); then `req.body` is preset, which
 * trpc-to-openapi uses instead of reading the stream itself. An unknown
 * route is a 404 `{ code, message }`.
 */
export function createRestHandler(appRouter: AppRouter, services: ApiServices) {
  const handle = createOpenApiNodeHttpHandler({
    router: appRouter,
    createContext: createContextFactory(services.app.readModels, 'rest'),
    responseMeta: createResponseMeta(successStatuses(appRouter)),
    onError: reportUnexpected(services.logger, 'rest'),
    maxBodySize: MAX_BODY_BYTES,
  });

  return async (req: IncomingMessage & { body?: unknown }, res: ServerResponse, url: URL): Promise<void> => {
    const read = await readBodyText(req);
    if ('error' in read) return sendError(res, read.error, { connection: 'close' });

    let body: unknown;
    if (BODY_METHODS.has(req.method ?? '') && read.text.trim() !== '') {
      const parsed = parseJson(read.text, 'body');
      if ('error' in parsed) return sendError(res, parsed.error);
      if (!isPlainObject(parsed.value)) return sendError(res, new TRPCError({ code: 'BAD_REQUEST', message: 'body: must be a JSON object' }));
      body = parsed.value;
    }
    req.body = body;
    markBodyAsJson(req);

    await handle(req, res, () =>
      sendError(res, new TRPCError({ code: 'NOT_FOUND', message: `No route for ${req.method} ${url.pathname}` })),
    );
  };
}
