import { describe, expect, test } from 'vitest';
import { throttledLog } from './logger.js';

describe('throttledLog', () => {
  test('writes at most once per interval and counts what it left out', () => {
    let now = 0;
    const log = throttledLog(1_000, () => now);
    const written: number[] = [];
    const write = (suppressed: number) => written.push(suppressed);
    log(write);
    now = 10;
    log(write);
    now = 999;
    log(write);
    now = 1_000;
    log(write);
    now = 5_000;
    log(write);
    expect(written).toEqual([0, 2, 0]);
  });
});
