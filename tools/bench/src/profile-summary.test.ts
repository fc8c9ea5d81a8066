import { describe, expect, it } from 'vitest';
import { busyTimeline, stageTimes, summarizeProfile } from './profile-summary.js';

const WS = 'file:///repo';

/** A profile of `samples` (node ids), one every `everyUs`, over a small call tree. */
function profile(samples: number[], everyUs = 1_000) {
  const frame = (functionName: string, url = '') => ({ functionName, url, lineNumber: 0, columnNumber: 0 });
  return {
    nodes: [
      { id: 1, callFrame: frame('(root)'), children: [2, 3, 6, 7] },
      { id: 2, callFrame: frame('cycle', `${WS}/apps/delivery/dist/delivery-service.js`), children: [4, 8] },
      { id: 3, callFrame: frame('(idle)') },
      { id: 4, callFrame: frame('claim', `${WS}/packages/projections/dist/delivery-claims.js`), children: [5] },
      // A statement run by the claim: the claim's time, though storage frames are innermost.
      { id: 5, callFrame: frame('all', `${WS}/packages/storage-sqlite/dist/connection-sql.js`) },
      { id: 6, callFrame: frame('(garbage collector)') },
      { id: 7, callFrame: frame('processImmediate', 'node:internal/timers') },
      { id: 8, callFrame: frame('exec', `${WS}/packages/storage-sqlite/dist/group-commit.js`) },
    ],
    startTime: 0,
    endTime: samples.length * everyUs,
    samples,
    timeDeltas: samples.map(() => everyUs),
  };
}

describe('profile summary', () => {
  it('gives a sample to the first stage of the list with a frame on its stack, whatever its depth', () => {
    const { stages, other } = stageTimes(profile([5, 5, 8, 2, 6, 7, 3]));
    const ms = Object.fromEntries(stages.map((s) => [s.stage, s.ms]));
    expect(ms['claim (due rows, caps, marks)']).toBe(2);
    expect(ms['commit (BEGIN/COMMIT/savepoints: the WAL writes)']).toBe(1);
    expect(ms['delivery loop bookkeeping']).toBe(1);
    expect(ms['garbage collection']).toBe(1);
    expect(ms.idle).toBe(1);
    expect(other).toEqual([{ frame: 'processImmediate node:internal/timers:1', ms: 1 }]);
  });

  it('keeps only the samples of the window given in seconds', () => {
    // 1,000 samples of 1 ms: the first second idle, the second in the claim.
    const samples = [...Array.from({ length: 1_000 }, () => 3), ...Array.from({ length: 1_000 }, () => 5)];
    const { stages } = stageTimes(profile(samples), { fromS: 1.0005 });
    expect(stages.map((s) => s.stage)).toEqual(['claim (due rows, caps, marks)']);
    expect(summarizeProfile(profile(samples), { toS: 1 }).totalMs).toBe(1_000);
  });

  it('reports each second’s busy share', () => {
    const samples = [...Array.from({ length: 1_000 }, (_, i) => (i % 4 === 0 ? 5 : 3)), ...Array.from({ length: 1_000 }, () => 8)];
    const timeline = busyTimeline(profile(samples));
    expect(timeline[0]).toBeCloseTo(0.25, 2);
    expect(timeline[1]).toBeCloseTo(1, 2);
  });
});
