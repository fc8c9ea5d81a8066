import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Handinger from '@ramensoft/handinger';
import { openApplication, type Application } from '@handinger-webhooks/commands';
import { silentLogger, type Logger } from '@handinger-webhooks/contracts';
import { createTestDatabase, type TestBackend, type TestDatabase } from '@handinger-webhooks/testing';
import { createTRPCClient, httpLink, type TRPCClient } from '@trpc/client';
import { createApiHandler, type ApiOptions, type AppRouter } from '../index.js';

export interface RawResponse {
  status: number;
  headers: Headers;
  /** Parsed JSON, or the raw text when the body is not JSON. */
  body: any;
}

export interface RequestOptions {
  key?: string;
  /** Serialised as JSON with `content-type: application/json`. */
  json?: unknown;
  /** Sent as is (no content type unless given in `headers`). */
  raw?: string | Buffer | ReadableStream<Uint8Array>;
  headers?: Record<string, string>;
}

export interface TestApi {
  app: Application;
  backend: TestBackend;
  database: TestDatabase;
  baseUrl: string;
  /** How many HTTP requests the server has received (to see that the SDK did not retry). */
  requestCount(): number;
  userKey(organizationId: string, userId: string): Promise<string>;
  serviceKey(): Promise<string>;
  /** The official SDK, as a user would construct it. */
  sdk(apiKey: string, options?: { maxRetries?: number }): Handinger;
  /** A typed tRPC client without batching (the client package's batching client is tested there). */
  trpc(apiKey?: string): TRPCClient<AppRouter>;
  request(method: string, path: string, options?: RequestOptions): Promise<RawResponse>;
  close(): Promise<void>;
}

/**
 * A real API server on 127.0.0.1 (free port) over a real, fresh database:
 * a SQLite file in a temp dir (the default), or a new database on the test
 * run's PostgreSQL server.
 */
export async function startTestApi(options: Partial<Omit<ApiOptions, 'app'>> & { logger?: Logger; backend?: TestBackend } = {}): Promise<TestApi> {
  const { backend = 'sqlite', ...apiOptions } = options;
  const database = await createTestDatabase(backend, 'api.db');
  const app = await openApplication({ db: database.db, secretKey: database.secretKey });
  const handler = createApiHandler({ app, allowPrivateNetwork: false, version: '0.0.0-test', logger: silentLogger, ...apiOptions });
  let requests = 0;
  const server = createServer((req, res) => {
    requests += 1;
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    app,
    backend,
    database,
    baseUrl,
    requestCount: () => requests,
    userKey: async (organizationId, userId) =>
      (await app.commands.issueApiKey({ role: 'user', organizationId, userId, name: `${organizationId}/${userId}` })).key,
    serviceKey: async () => (await app.commands.issueApiKey({ role: 'service', organizationId: null, userId: null, name: 'task runner' })).key,
    sdk: (apiKey, sdkOptions = {}) => new Handinger({ apiKey, baseURL: baseUrl, ...sdkOptions }),
    trpc: (apiKey) =>
      createTRPCClient<AppRouter>({
        links: [httpLink({ url: `${baseUrl}/trpc`, headers: () => (apiKey ? { authorization: `Bearer ${apiKey}` } : {}) })],
      }),
    async request(method, path, { key, json, raw, headers = {} } = {}) {
      const init: RequestInit & { duplex?: 'half' } = {
        method,
        headers: {
          ...(key ? { authorization: `Bearer ${key}` } : {}),
          ...(json !== undefined ? { 'content-type': 'application/json' } : {}),
          ...headers,
        },
      };
      if (json !== undefined) init.body = JSON.stringify(json);
      else if (raw !== undefined) {
        init.body = raw as NonNullable<RequestInit['body']>;
        if (raw instanceof ReadableStream) init.duplex = 'half';
      }
      const response = await fetch(`${baseUrl}${path}`, init);
      const text = await response.text();
      let body: unknown = text;
      try {
        body = text === '' ? undefined : JSON.parse(text);
      } catch {
        // not JSON: keep the text
      }
      return { status: response.status, headers: response.headers, body };
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      try {
        await app.close();
      } finally {
        await database.drop();
      }
    },
  };
}

/** A well-formed worker id that no worker has (ULID alphabet, never minted here). */
export const unknownWorkerId = (organizationId: string): string => `t_${organizationId}_w_01ARZ3NDEKTSV4RRFFQ69G5FAV`;

/** The tRPC error fields a client sees, or a marker when the call succeeded. */
export async function trpcOutcome(call: () => Promise<unknown>): Promise<{ status: number; code: string; message: string } | { ok: unknown }> {
  try {
    return { ok: await call() };
  } catch (error) {
    const e = error as { message: string; data?: { httpStatus: number; code: string } };
    return { status: e.data?.httpStatus ?? -1, code: e.data?.code ?? 'none', message: e.message };
  }
}
