import { openApplication, type Application } from '@handinger-webhooks/commands';
import { createTestDatabase, type TestDatabase } from '@handinger-webhooks/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRouteLabeler } from './route-labels.js';

let database: TestDatabase;
let app: Application;
let label: ReturnType<typeof createRouteLabeler>;
beforeAll(async () => {
  database = await createTestDatabase('sqlite');
  app = await openApplication({ db: database.db });
  label = createRouteLabeler({ app, allowPrivateNetwork: false, version: 'test' });
});
afterAll(async () => {
  await app.close();
  await database.drop();
});

const WORKER = 't_org_123_w_01HZY2ZJQ8G7K42W2D7WF6V4GM';

describe('route labels (SPEC §10)', () => {
  it('are the REST path templates, never the ids or the query', () => {
    expect(label('GET', `/api/workers/${WORKER}/webhook`)).toBe('/api/workers/{workerId}/webhook');
    expect(label('PUT', `/api/workers/${WORKER}/webhook/`)).toBe('/api/workers/{workerId}/webhook');
    expect(label('GET', `/api/workers/${WORKER}/webhook/executions?page=4000`)).toBe('/api/workers/{workerId}/webhook/executions');
    expect(label('POST', '/api/task-completions')).toBe('/api/task-completions');
    expect(label('DELETE', `/api/workers/${WORKER}`)).toBe('/api/workers/{workerId}');
    // A method the route does not take is still that route (answered 404 there).
    expect(label('PATCH', `/api/workers/${WORKER}/webhook`)).toBe('/api/workers/{workerId}/webhook');
  });

  it('are the procedure for tRPC, one label for batches, and fixed paths as they are', () => {
    expect(label('POST', '/trpc/workers.create')).toBe('/trpc/workers.create');
    expect(label('GET', `/trpc/workers.webhooks.retrieve?input=${encodeURIComponent(JSON.stringify({ workerId: WORKER }))}`)).toBe('/trpc/workers.webhooks.retrieve');
    expect(label('GET', '/trpc/workers.webhooks.retrieve,workers.webhooks.listExecutions?batch=1')).toBe('/trpc/{batch}');
    for (const path of ['/healthz', '/readyz', '/metrics', '/api/openapi.json', '/']) expect(label('GET', path)).toBe(path);
    expect(label('GET', '/console/assets/app.js')).toBe('/console/*');
  });

  it('are `unmatched` for anything else', () => {
    for (const path of [`/api/workers/${WORKER}/nothing`, '/api/', '/trpc/no.such.procedure', `/${WORKER}`, '/wp-admin.php', '//api/workers', '/api/workers//webhook']) {
      expect(label('GET', path), path).toBe('unmatched');
    }
    expect(label(undefined, undefined)).toBe('/');
  });
});
