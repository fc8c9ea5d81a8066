import { describe, expect, test } from 'vitest';
import { MAX_JSON_DEPTH, exceedsJsonDepth } from './json-depth.js';

const nested = (levels: number, open = '[', close = ']') => open.repeat(levels) + close.repeat(levels);

describe('exceedsJsonDepth', () => {
  test('the document itself is level 1: 64 levels pass, 65 do not', () => {
    expect(exceedsJsonDepth(nested(MAX_JSON_DEPTH))).toBe(false);
    expect(exceedsJsonDepth(nested(MAX_JSON_DEPTH + 1))).toBe(true);
    const deepObject = (levels: number) => '{"a":'.repeat(levels - 1) + '{}' + '}'.repeat(levels - 1);
    expect(exceedsJsonDepth(deepObject(MAX_JSON_DEPTH))).toBe(false);
    expect(exceedsJsonDepth(deepObject(MAX_JSON_DEPTH + 1))).toBe(true);
  });

  test('objects and arrays count alike, and a scalar is level 0', () => {
    expect(exceedsJsonDepth('{"a":[{"b":[1]}]}', 4)).toBe(false);
    expect(exceedsJsonDepth('{"a":[{"b":[1]}]}', 3)).toBe(true);
    expect(exceedsJsonDepth('"just a string"', 0)).toBe(false);
  });

  test('brackets inside strings, escaped quotes included, do not count', () => {
    expect(exceedsJsonDepth(JSON.stringify({ s: '[[[[[[[[' }), 1)).toBe(false);
    expect(exceedsJsonDepth(JSON.stringify({ s: 'a"[[[[\\"{{{{' }), 1)).toBe(false);
    expect(exceedsJsonDepth(JSON.stringify({ s: 'x\\', t: [[1]] }), 2)).toBe(true);
  });

  test('a very deep document is refused without recursion', () => {
    expect(exceedsJsonDepth(nested(1_000_000))).toBe(true);
  });
});
