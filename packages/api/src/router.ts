import { resolveServices, type ApiOptions } from './options.js';
import { createTaskCompletionsRouter } from './routers/task-completions.js';
import { createWorkersRouter } from './routers/workers.js';
import { router } from './trpc.js';

/**
 * The application's router: one definition served as tRPC at `/trpc` and,
 * through each procedure's `openapi` meta, as REST at `/api` (SPEC §3, §4).
 * Built per `Application` (the routers close over its commands and read
 * models); the context carries only what differs per request: the caller.
 */
export function createAppRouter(options: ApiOptions) {
  const services = resolveServices(options);
  return router({
    workers: createWorkersRouter(services),
    taskCompletions: createTaskCompletionsRouter(services),
  });
}

/** The router's type, for typed clients (`@handinger-webhooks/client`). */
export type AppRouter = ReturnType<typeof createAppRouter>;
