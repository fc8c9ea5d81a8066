import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConcurrencyLimits } from './concurrency.js';

describe('ConcurrencyLimits', () => {
  it('enforces the per-origin and the global cap', () => {
    const limits = new ConcurrencyLimits(3, 2);
    expect(limits.tryAcquire('a')).toBe(true);
    expect(limits.tryAcquire('a')).toBe(true);
    expect(limits.tryAcquire('a')).toBe(false);
    expect(limits.saturatedOrigins()).toEqual(['a']);
    expect(limits.tryAcquire('b')).toBe(true);
    expect(limits.tryAcquire('c')).toBe(false);
    expect(limits.free()).toBe(0);
    limits.release('a');
    expect(limits.saturatedOrigins()).toEqual([]);
    expect(limits.tryAcquire('c')).toBe(true);
    expect(limits.inFlight).toBe(3);
  });

  it('refuses to release a slot that was not taken', () => {
    expect(() => new ConcurrencyLimits(1, 1).release('a')).toThrow();
  });

  it('never exceeds either cap and always returns to empty (any sequence)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 8 }),
        fc.array(fc.record({ acquire: fc.boolean(), origin: fc.constantFrom('a', 'b', 'c') }), { maxLength: 60 }),
        (globalCap, perOriginCap, steps) => {
          const limits = new ConcurrencyLimits(globalCap, perOriginCap);
          const held = new Map<string, number>();
          for (const step of steps) {
            if (step.acquire) {
              if (limits.tryAcquire(step.origin)) held.set(step.origin, (held.get(step.origin) ?? 0) + 1);
            } else if ((held.get(step.origin) ?? 0) > 0) {
              limits.release(step.origin);
              held.set(step.origin, held.get(step.origin)! - 1);
            }
            const total = [...held.values()].reduce((a, b) => a + b, 0);
            expect(limits.inFlight).toBe(total);
            expect(total).toBeLessThanOrEqual(globalCap);
            for (const [origin, count] of held) {
              expect(count).toBeLessThanOrEqual(perOriginCap);
              expect(limits.saturatedOrigins().includes(origin)).toBe(count >= perOriginCap);
            }
          }
          for (const [origin, count] of held) for (let i = 0; i < count; i++) limits.release(origin);
          expect(limits.inFlight).toBe(0);
          expect(limits.free()).toBe(globalCap);
        },
      ),
    );
  });
});
