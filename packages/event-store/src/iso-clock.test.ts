import { describe, expect, it } from 'vitest';
import { isoClock } from './iso-clock.js';

describe('isoClock', () => {
  it('gives the clock’s time as toISOString does, following the clock when it moves, back in time too', () => {
    let now = Date.parse('2026-12-01T10:00:00.000Z');
    const iso = isoClock(() => new Date(now));
    expect(iso()).toBe('2026-12-01T10:00:00.000Z');
    expect(iso()).toBe('2026-12-01T10:00:00.000Z');
    now += 1;
    expect(iso()).toBe('2026-12-01T10:00:00.001Z');
    now -= 3_600_000;
    expect(iso()).toBe('2026-12-01T09:00:00.001Z');
  });
});
