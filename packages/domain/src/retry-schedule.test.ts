import { describe, expect, it } from 'vitest';
import { DEFAULT_RETRY_SCHEDULE_MS, nextDelayMs, parseDuration, parseRetrySchedule } from './retry-schedule.js';

describe('retry schedule', () => {
  it('defaults to 7 delays: 8 attempts in all', () => {
    expect(DEFAULT_RETRY_SCHEDULE_MS).toEqual([5e3, 3e5, 18e5, 72e5, 18e6, 36e6, 36e6]);
  });

  it('parses units', () => {
    expect(parseRetrySchedule('1s,2s')).toEqual([1000, 2000]);
    expect(parseRetrySchedule('250ms, 1.5s ,5m,2h')).toEqual([250, 1500, 300_000, 7_200_000]);
  });

  it('reads an empty schedule as no retries', () => {
    expect(parseRetrySchedule('')).toEqual([]);
  });

  it.each(['5', 'abc', '1s,', '-1s', '1d'])('rejects %j', (text) => {
    expect(() => parseRetrySchedule(text)).toThrow(/invalid retry delay/);
  });
});

describe('parseDuration', () => {
  it('reads a number and a unit, and 0 alone', () => {
    expect(parseDuration('5d')).toBe(5 * 86_400_000);
    expect(parseDuration('12h')).toBe(12 * 3_600_000);
    expect(parseDuration('3s')).toBe(3_000);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('0')).toBe(0);
  });

  it('refuses anything else, naming it', () => {
    for (const bad of ['', '5', 'd', '-1d', '1w', '1 d x']) expect(() => parseDuration(bad)).toThrow(/invalid duration/);
  });
});

describe('nextDelayMs', () => {
  it('is undefined once the schedule has no delay left', () => {
    expect(nextDelayMs([1_000], 2, { jitter: 0, retryAfterMs: null })).toBeUndefined();
  });
});
