import type { DomainEvent } from '@handinger-webhooks/contracts';
import { CLAIM_METADATA, DeliveryClaims, type ClaimRequest } from '@handinger-webhooks/projections';
import { TEST_BACKENDS } from '@handinger-webhooks/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStorageUnderTest, type StorageUnderTest } from './storage-under-test.js';

const at = '2026-01-01T00:00:00.000Z';
const workerId = (n: number) => `t_org_1_w_${String(n).padStart(26, '0')}`;
const claims = new DeliveryClaims();
const request = (over: Partial<ClaimRequest> = {}): ClaimRequest => ({ owner: 'p1', ttlMs: 60_000, globalCap: 256, perOriginCap: 16, limit: 1_000, ...over });

describe.each(TEST_BACKENDS)('delivery claims on %s', (backend) => {
  let s: StorageUnderTest;
  beforeEach(async () => {
    s = await openStorageUnderTest(backend);
  });
  afterEach(() => s.close());

  const append = (streamId: string, event: DomainEvent, metadata?: Record<string, unknown>) =>
    s.db.transaction((tx) => s.log.append(tx, streamId, [{ ...event, ...(metadata ? { metadata } : {}) }], 'any'));

  /** A worker whose webhook points at `origin`; returns its generation. */
  async function webhook(n: number, origin: string): Promise<number> {
    const w = workerId(n);
    const { events } = await append(`webhook-${w}`, { type: 'WebhookConfigured', data: { workerId: w, url: `${origin}/hook`, token: 't', signingSecret: 's', configuredAt: at } });
    return events[0]!.globalPosition;
  }

  /** `count` due deliveries for worker n, due `dueMs` (epoch ms). */
  async function deliveries(n: number, generation: number, count: number, dueMs = Date.now() - 1_000, prefix = `d${n}`): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const deliveryId = `${prefix}_${i}`;
      ids.push(deliveryId);
      await append(`delivery-${deliveryId}`, {
        type: 'DeliveryScheduled',
        data: { deliveryId, workerId: workerId(n), taskId: `task_${deliveryId}`, taskPosition: 1, webhookGeneration: generation, dueAt: new Date(dueMs).toISOString(), scheduledAt: at },
      });
    }
    return ids;
  }

  const claim = (over: Partial<ClaimRequest> = {}, on = s) => on.db.transaction((tx) => claims.claim(tx, request(over)));

  it('claims due attempts in due order with everything needed to send them', async () => {
    const generation = await webhook(1, 'https://a.example');
    const [early] = await deliveries(1, generation, 1, Date.now() - 5_000, 'early');
    await deliveries(1, generation, 2);
    const { attempts, orphans } = await claim();
    expect(orphans).toEqual([]);
    expect(attempts.map((a) => a.deliveryId)).toEqual([early, 'd1_0', 'd1_1']);
    expect(attempts[0]).toMatchObject({
      workerId: workerId(1),
      taskId: 'task_early_0',
      taskPosition: 1,
      generation,
      attempt: 1,
      version: 1,
      url: 'https://a.example/hook',
      origin: 'https://a.example',
      token: 't',
      signingSecret: 's',
    });
    expect(attempts[0]!.claimToken).toMatch(/^[A-Za-z0-9_-]{16}$/);
    // Claimed: nobody takes them again while the claims live.
    expect((await claim({ owner: 'p2' })).attempts).toEqual([]);
  });

  it('leaves attempts that are not due yet', async () => {
    const generation = await webhook(1, 'https://a.example');
    await deliveries(1, generation, 2, Date.now() + 60_000);
    expect((await claim()).attempts).toEqual([]);
    const next = await claims.nextWakeAt(s.db.sql, 'p1');
    expect(next).toBeGreaterThan(Date.now() + 50_000);
  });

  it('holds the per-origin cap and the global cap, counting every process’s live claims', async () => {
    const a = await webhook(1, 'https://a.example');
    const b = await webhook(2, 'https://b.example');
    const c = await webhook(3, 'https://c.example');
    await deliveries(1, a, 10);
    await deliveries(2, b, 10);
    await deliveries(3, c, 10);
    const first = await claim({ perOriginCap: 4, globalCap: 10 });
    const count = (list: { origin: string }[]) => Object.fromEntries(['https://a.example', 'https://b.example', 'https://c.example'].map((o) => [o, list.filter((x) => x.origin === o).length]));
    expect(count(first.attempts)).toEqual({ 'https://a.example': 4, 'https://b.example': 4, 'https://c.example': 2 });
    expect(first.saturated).toBe(true);
    // Another process sees the same caps: nothing is left for it.
    const other = await s.openAnother();
    expect((await other.db.transaction((tx) => claims.claim(tx, request({ owner: 'p2', perOriginCap: 4, globalCap: 10 })))).attempts).toEqual([]);
    // Giving two back frees two slots, for anyone.
    await s.db.transaction((tx) => claims.release(tx, first.attempts.filter((x) => x.origin === 'https://a.example').slice(0, 2).map((x) => x.claimToken)));
    const second = await other.db.transaction((tx) => claims.claim(tx, request({ owner: 'p2', perOriginCap: 4, globalCap: 10 })));
    expect(second.attempts.map((x) => x.origin)).toEqual(['https://a.example', 'https://a.example']);
  });

  it('never lets concurrent claimers exceed the caps together', async () => {
    const a = await webhook(1, 'https://a.example');
    const b = await webhook(2, 'https://b.example');
    await deliveries(1, a, 40);
    await deliveries(2, b, 40);
    const processes = await Promise.all(Array.from({ length: 6 }, () => s.openAnother()));
    const results = await Promise.all(
      processes.flatMap((p, k) => [0, 1, 2].map(() => p.db.transaction((tx) => claims.claim(tx, request({ owner: `p${k}`, perOriginCap: 5, globalCap: 8, limit: 3 }))))),
    );
    const all = results.flatMap((r) => r.attempts);
    expect(new Set(all.map((x) => x.deliveryId)).size).toBe(all.length); // never claimed twice
    expect(all.length).toBe(8);
    expect(all.filter((x) => x.origin === 'https://a.example').length).toBeLessThanOrEqual(5);
    expect(all.filter((x) => x.origin === 'https://b.example').length).toBeLessThanOrEqual(5);
  });

  it('passes over a full origin’s backlog to another origin’s due work, and reports whether any other had some', async () => {
    const a = await webhook(1, 'https://a.example');
    const b = await webhook(2, 'https://b.example');
    await deliveries(1, a, 60, Date.now() - 5_000);
    const [behind] = await deliveries(2, b, 1);
    const first = await claim({ perOriginCap: 4 });
    expect(first.attempts.map((x) => x.origin)).toEqual([...Array(4).fill('https://a.example'), 'https://b.example']);
    expect(first.attempts.at(-1)!.deliveryId).toBe(behind);
    expect(first.idleElsewhere).toBe(false);
    // Only a's backlog left: the walk finds no other origin with work.
    const second = await claim({ perOriginCap: 8 });
    expect(second.attempts.map((x) => x.origin)).toEqual(Array(4).fill('https://a.example'));
    expect(second).toMatchObject({ saturated: true, idleElsewhere: true });
    // Told so, a claim skips the walk: b's new work waits for a claim that walks again.
    const [late] = await deliveries(2, b, 1, Date.now() - 1_000, 'late');
    const skipping = await claim({ perOriginCap: 12, skipOriginWalk: true });
    expect(skipping.attempts.map((x) => x.origin)).toEqual(Array(4).fill('https://a.example'));
    expect(skipping.idleElsewhere).toBeNull();
    expect((await claim({ perOriginCap: 16 })).attempts.map((x) => x.deliveryId)).toContain(late);
  });

  it('claims up to twice the caps ahead for origins no other process holds, and tells what it may send', async () => {
    const a = await webhook(1, 'https://a.example');
    const b = await webhook(2, 'https://b.example');
    await deliveries(1, a, 20);
    await deliveries(2, b, 20);
    // p1 holds 4 of a on the wire: it may claim 4 more of a ahead (cap 4), and 8 of b.
    const ahead = await claim({ perOriginCap: 4, heldHere: new Map([['https://a.example', 4]]), claimAhead: true, limit: 100 });
    const byOrigin = (list: { origin: string }[], origin: string) => list.filter((x) => x.origin === origin).length;
    expect(byOrigin(ahead.attempts, 'https://a.example')).toBe(4);
    expect(byOrigin(ahead.attempts, 'https://b.example')).toBe(8);
    expect(ahead.sendLimits).toEqual({ global: 256, perOrigin: new Map(), perOriginCap: 4 });
    // p2 sees p1's claims: a and b are full for it (it could send none), and its limits say so.
    const other = await claim({ owner: 'p2', perOriginCap: 4, heldHere: new Map(), claimAhead: true });
    expect(other.attempts).toEqual([]);
    expect(other.sendLimits.perOrigin).toEqual(new Map([['https://a.example', 0], ['https://b.example', 0]]));
    expect(other.sendLimits.global).toBe(256 - 12);
    // Without claiming ahead, p1 takes only what the caps leave beside what it holds.
    await s.db.transaction((tx) => claims.release(tx, ahead.attempts.map((x) => x.claimToken)));
    const plain = await claim({ perOriginCap: 4, heldHere: new Map([['https://a.example', 4]]) });
    expect(byOrigin(plain.attempts, 'https://a.example')).toBe(0);
    expect(byOrigin(plain.attempts, 'https://b.example')).toBe(4);
  });

  it('claims no further ahead for an origin another process holds claims for', async () => {
    const a = await webhook(1, 'https://a.example');
    await deliveries(1, a, 20);
    const p2 = await claim({ owner: 'p2', perOriginCap: 4, limit: 1 });
    expect(p2.attempts).toHaveLength(1);
    const p1 = await claim({ perOriginCap: 4, heldHere: new Map(), claimAhead: true });
    // Within the cap beside p2's claim, so p1 may send everything it holds.
    expect(p1.attempts).toHaveLength(3);
    expect(p1.sendLimits.perOrigin.get('https://a.example')).toBe(3);
  });

  it('a lapsed claim may be claimed again by another process', async () => {
    const generation = await webhook(1, 'https://a.example');
    await deliveries(1, generation, 1);
    const first = await claim({ ttlMs: 1 });
    expect(first.attempts).toHaveLength(1);
    await new Promise((resolve) => setTimeout(resolve, 20)); // the database's clock must pass the claim's expiry
    const second = await claim({ owner: 'p2' });
    expect(second.attempts.map((x) => x.deliveryId)).toEqual(first.attempts.map((x) => x.deliveryId));
    expect(second.attempts[0]!.claimToken).not.toBe(first.attempts[0]!.claimToken);
  });

  it('claims deliveries of a removed or replaced webhook as orphans, outside the caps', async () => {
    const g1 = await webhook(1, 'https://a.example');
    await deliveries(1, g1, 2, Date.now() - 1_000, 'old');
    await append(`webhook-${workerId(1)}`, { type: 'WebhookRemoved', data: { workerId: workerId(1), reason: 'removed', removedAt: at } });
    const g2 = await webhook(2, 'https://b.example');
    await deliveries(2, g2 - 1, 1, Date.now() - 1_000, 'replaced');
    const { attempts, orphans } = await claim({ perOriginCap: 1, globalCap: 1 });
    expect(attempts).toEqual([]);
    expect(orphans.map((o) => [o.deliveryId, o.reason]).sort()).toEqual([
      ['old_0', 'webhook removed'],
      ['old_1', 'webhook removed'],
      ['replaced_0', 'webhook replaced'],
    ]);
  });

  it('a recording releases its own claim only: a lapsed process records, the schedule moves on, the current holder keeps its claim', async () => {
    const generation = await webhook(1, 'https://a.example');
    const [deliveryId] = await deliveries(1, generation, 1);
    const stale = (await claim({ ttlMs: 1 })).attempts[0]!;
    await new Promise((resolve) => setTimeout(resolve, 20));
    const current = (await claim({ owner: 'p2' })).attempts[0]!;
    const attempted = (claimToken: string, executionId: string): DomainEvent => ({
      type: 'DeliveryAttempted',
      data: {
        deliveryId: deliveryId!, workerId: workerId(1), attempt: 1, executionId, startedAt: at, durationMs: 1, url: 'https://a.example/hook',
        requestStatus: 'error', responseStatus: 500, errorMessage: 'HTTP 500', taskId: 'task', taskTitle: null, dueAt: stale.dueAt,
        nextAttemptAt: '2030-01-01T00:00:00.000Z', nextAttempt: 2, result: claimToken === stale.claimToken ? 'retry' : 'superseded',
      },
    });
    const row = () =>
      s.db.sql.get<{ attempt: number; claim_token: string | null }>(
        'SELECT q.attempt, c.token AS claim_token FROM delivery_queue q LEFT JOIN delivery_claims c ON c.delivery_id = q.delivery_id WHERE q.delivery_id = ?',
        [deliveryId!],
      );
    // The lapsed process records first: its execution counts and the schedule moves on (the row follows the
    // stream), but the current holder keeps its claim: it is still sending, and still counts against the caps.
    await append(`delivery-${deliveryId}`, attempted(stale.claimToken, 'whe_1'), { [CLAIM_METADATA]: stale.claimToken });
    expect(await row()).toEqual({ attempt: 2, claim_token: current.claimToken });
    // The current holder records (superseded: the attempt was recorded already): its claim goes, the schedule stays.
    await append(`delivery-${deliveryId}`, attempted(current.claimToken, 'whe_2'), { [CLAIM_METADATA]: current.claimToken });
    expect(await row()).toEqual({ attempt: 2, claim_token: null });
    expect((await s.readModels.executionsPage(workerId(1), 1)).totalCount).toBe(2);
  });
});
