import { afterEach, describe, expect, it } from 'vitest';
import { DomainError } from '@handinger-webhooks/domain';
import { EventStore, migrateEventStore, openDatabase } from '@handinger-webhooks/event-store';
import { createTempDir } from '@handinger-webhooks/testing';
import { openApplication, type Application } from './application.js';
import { GroupCommit } from './group-commit.js';
import { StreamStateCache } from './stream-state-cache.js';

const dirs: ReturnType<typeof createTempDir>[] = [];
const apps: Application[] = [];
afterEach(() => {
  apps.splice(0).forEach((a) => a.close());
  dirs.splice(0).forEach((d) => d.remove());
});

/** Two processes' worth of application on one database file. */
async function twoApplications(): Promise<[Application, Application]> {
  const dir = createTempDir();
  dirs.push(dir);
  const a = await openApplication({ dbPath: dir.file('app.db') });
  const b = await openApplication({ dbPath: dir.file('app.db') });
  apps.push(a, b);
  return [a, b];
}

describe('StreamStateCache', () => {
  it('exposes a command’s writes to its batch, and to others only after the commit', () => {
    const cache = new StreamStateCache();
    const entry = { decider: {}, version: 1, state: 'one' };
    cache.stage('s', entry);
    expect(cache.get('s')).toBe(entry);
    cache.commandSucceeded();
    expect(cache.get('s')).toBe(entry);
    cache.batchCommitted();
    expect(cache.get('s')).toBe(entry);
    cache.stage('s', { decider: {}, version: 2, state: 'two' });
    cache.commandFailed();
    expect(cache.get('s')).toBe(entry);
    cache.stage('s', { decider: {}, version: 2, state: 'two' });
    cache.commandSucceeded();
    cache.batchFailed();
    expect(cache.get('s')).toBe(entry);
    cache.forget('s');
    cache.commandSucceeded();
    cache.batchCommitted();
    expect(cache.get('s')).toBeUndefined();
  });

  it('keeps at most its capacity, dropping the least recently written', () => {
    const cache = new StreamStateCache(2);
    for (const id of ['a', 'b', 'c']) cache.stage(id, { decider: {}, version: 1, state: id });
    cache.commandSucceeded();
    cache.batchCommitted();
    expect(['a', 'b', 'c'].map((id) => cache.get(id)?.state)).toEqual([undefined, 'b', 'c']);
  });

  it('forgets what a rolled-back command of a group-committed batch wrote', async () => {
    const dir = createTempDir();
    dirs.push(dir);
    const db = openDatabase(dir.file('g.db'));
    await migrateEventStore(db);
    const store = new EventStore(db);
    const cache = new StreamStateCache();
    const commit = new GroupCommit(store, cache);
    const ok = commit.run(() => cache.stage('kept', { decider: {}, version: 1, state: 'kept' }));
    const failed = commit.run(() => {
      store.append('gone', [{ type: 'T', data: {} }], 0);
      cache.stage('gone', { decider: {}, version: 1, state: 'gone' });
      throw new Error('refused');
    });
    await ok;
    await expect(failed).rejects.toThrow('refused');
    expect(cache.get('kept')?.state).toBe('kept');
    expect(cache.get('gone')).toBeUndefined();
    expect(store.streamVersion('gone')).toBe(0);
    db.close();
  });
});

describe('commands with a cached stream state, against another process writing the same streams', () => {
  it('re-decides a no-op that a stale cache would have made', async () => {
    const [a, b] = await twoApplications();
    const worker = await a.commands.createWorker({ organizationId: 'org', userId: 'u' }, {});
    await a.commands.setWebhook(worker.id, 'https://one.example/h'); // cached by a
    await b.commands.setWebhook(worker.id, 'https://two.example/h');
    const back = await a.commands.setWebhook(worker.id, 'https://one.example/h');
    expect(back?.url).toBe('https://one.example/h');
    expect(a.store.readStream(`webhook-${worker.id}`).map((e) => e.type)).toEqual(['WebhookConfigured', 'WebhookUrlChanged', 'WebhookUrlChanged']);
  });

  it('re-decides a rejection that a stale cache would have made', async () => {
    const [a, b] = await twoApplications();
    const worker = await a.commands.createWorker({ organizationId: 'org', userId: 'u' }, {});
    await expect(a.commands.rotateToken(worker.id)).rejects.toBeInstanceOf(DomainError); // a caches "no webhook"
    await b.commands.setWebhook(worker.id, 'https://one.example/h');
    const rotated = await a.commands.rotateToken(worker.id);
    expect(rotated.url).toBe('https://one.example/h');
  });

  it('appends after another process’s events instead of colliding', async () => {
    const [a, b] = await twoApplications();
    const worker = await a.commands.createWorker({ organizationId: 'org', userId: 'u' }, {});
    await a.commands.setWebhook(worker.id, 'https://one.example/h');
    await b.commands.rotateToken(worker.id);
    await a.commands.setWebhook(worker.id, 'https://three.example/h');
    expect(a.store.readStream(`webhook-${worker.id}`).map((e) => [e.streamPosition, e.type])).toEqual([
      [1, 'WebhookConfigured'],
      [2, 'WebhookTokenRotated'],
      [3, 'WebhookUrlChanged'],
    ]);
  });
});
