import { afterEach, describe, expect, it } from 'vitest';
import { TEST_BACKENDS, createTestDatabase, type TestDatabase } from '@handinger-webhooks/testing';
import { openApplication, type Application } from './application.js';

/**
 * The commands' own check that their worker exists and is not deleted (the
 * API checks the worker before calling them; this is what holds when a
 * delete lands in between, and for every other caller). Real databases.
 */

const databases: TestDatabase[] = [];
const apps: Application[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
  for (const database of databases.splice(0)) await database.drop();
});

describe.each(TEST_BACKENDS)('commands for a worker that is not live, on %s', (backend) => {
  it('refuse a deleted or unknown worker with worker_not_found and append nothing', async () => {
    const database = await createTestDatabase(backend);
    databases.push(database);
    const app = await openApplication({ db: database.db, secretKey: database.secretKey });
    apps.push(app);
    const owner = { organizationId: 'org_a', userId: 'u1' };
    const live = await app.commands.createWorker(owner, { title: 'live' });
    const deleted = await app.commands.createWorker(owner, { title: 'deleted' });
    await app.commands.deleteWorker(deleted.id);
    const unknown = `${live.id}x`;

    // The live worker passes the same check.
    await expect(app.commands.setWebhook(live.id, 'https://a.example/hook')).resolves.toMatchObject({ url: 'https://a.example/hook' });
    const head = await app.log.headPosition();
    for (const workerId of [deleted.id, unknown]) {
      const refused = { name: 'DomainError', kind: 'not_found', reason: 'worker_not_found' };
      await expect(app.commands.setWebhook(workerId, 'https://a.example/hook')).rejects.toMatchObject(refused);
      await expect(app.commands.rotateToken(workerId)).rejects.toMatchObject(refused);
      await expect(app.commands.recordTaskCompletion({ taskId: `task_${workerId}`, workerId, status: 'completed' })).rejects.toMatchObject(refused);
    }
    expect(await app.log.headPosition()).toBe(head);
  });
});
