import { createHandingerClient, type HandingerClient, type HandingerOutputs } from '@handinger-webhooks/client';
import { TRPCClientError } from '@trpc/client';

/**
 * The console talks to the API only through the typed tRPC client that
 * TypeScript apps use (`@handinger-webhooks/client`): every call is checked
 * against the server's router by the compiler. Same origin only.
 */
export type Api = HandingerClient;
export const createApi = (key: string): Api => createHandingerClient({ baseUrl: location.origin, apiKey: key });

export type Worker = HandingerOutputs['workers']['list']['workers'][number];
export type WorkerList = HandingerOutputs['workers']['list'];
export type Webhook = HandingerOutputs['workers']['webhooks']['retrieve'];
export type ExecutionList = HandingerOutputs['workers']['webhooks']['listExecutions'];
export type Execution = ExecutionList['logs'][number];
export type PortalLink = HandingerOutputs['workers']['webhooks']['createPortalSession'];
export type ExecutionDetail = HandingerOutputs['workers']['webhooks']['getExecution'];
export type TestResult = HandingerOutputs['workers']['webhooks']['sendTest'];
export type Recovery = HandingerOutputs['workers']['webhooks']['recover'];

/** The HTTP status of a failed call (0 when the server could not be reached). */
export function statusOf(error: unknown): number {
  if (error instanceof TRPCClientError) {
    const data = error.data as { httpStatus?: number } | undefined;
    return data?.httpStatus ?? 0;
  }
  return 0;
}

/** A failed call as a sentence for the page (shown as text). */
export function messageOf(error: unknown): string {
  if (error instanceof TRPCClientError) return statusOf(error) === 0 ? 'The server could not be reached' : error.message;
  return error instanceof Error ? error.message : String(error);
}

/**
 * Every failed call is shown to this: a 401 means the key was revoked or the
 * portal link ended, and the console then says so and forgets it (main.tsx).
 */
export const refusals: { notice: (error: unknown) => void } = { notice: () => {} };
