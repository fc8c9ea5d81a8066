/**
 * @handinger-webhooks/client — a typed tRPC client for the Handinger
 * Webhooks API. Only the router's *type* comes from the api package, so
 * nothing of the server is bundled into an app that uses this.
 */
import type { AppRouter } from '@handinger-webhooks/api';
import { createTRPCClient, httpBatchLink, type TRPCClient } from '@trpc/client';
import type { inferRouterInputs, inferRouterOutputs } from '@trpc/server';

export type { AppRouter };

/** The typed client: `client.workers.webhooks.update.mutate({ workerId, url })`, … */
export type HandingerClient = TRPCClient<AppRouter>;
/** Input types of every procedure, e.g. `HandingerInputs['taskCompletions']['record']`. */
export type HandingerInputs = inferRouterInputs<AppRouter>;
/** Output types of every procedure, e.g. `HandingerOutputs['workers']['webhooks']['retrieve']`. */
export type HandingerOutputs = inferRouterOutputs<AppRouter>;

export interface HandingerClientOptions {
  /** Where the service listens, e.g. `http://127.0.0.1:3000` (the client appends `/trpc`). */
  baseUrl: string;
  /** A user key, or the service key for `taskCompletions.record`. */
  apiKey: string;
  /** A `fetch` implementation, for runtimes without a global one or for tests. */
  fetch?: typeof globalThis.fetch;
}

/**
 * A typed client for one server and one API key. Calls made in the same
 * tick are batched into one HTTP request (tRPC's `httpBatchLink`); errors
 * are `TRPCClientError`s whose `data.code` / `data.httpStatus` match the
 * REST surface's `code` and status.
 */
export function createHandingerClient({ baseUrl, apiKey, fetch }: HandingerClientOptions): HandingerClient {
  return createTRPCClient<AppRouter>({
    links: [
      httpBatchLink({
        url: `${baseUrl.replace(/\/+$/, '')}/trpc`,
        headers: { authorization: `Bearer ${apiKey}` },
        ...(fetch ? { fetch } : {}),
      }),
    ],
  });
}
