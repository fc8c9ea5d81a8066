import { describe, expect, it } from 'vitest';
import { ClaimHints } from './claim-hints.js';

describe('ClaimHints', () => {
  it('skips the walk over other origins after one that found them idle, until work may be due', () => {
    const hints = new ClaimHints();
    expect(hints.skipOriginWalk).toBe(false);
    hints.claimed({ idleElsewhere: true, saturated: true });
    expect(hints.skipOriginWalk).toBe(true);
    // A claim that skipped the walk (and left a full origin's work behind) keeps the hint.
    hints.claimed({ idleElsewhere: null, saturated: true });
    expect(hints.skipOriginWalk).toBe(true);
    hints.workMayBeDue();
    expect(hints.skipOriginWalk).toBe(false);
  });

  it('walks again after a walk that found other origins with work, or a claim that left nothing behind', () => {
    const hints = new ClaimHints();
    hints.claimed({ idleElsewhere: true, saturated: true });
    hints.claimed({ idleElsewhere: false, saturated: true });
    expect(hints.skipOriginWalk).toBe(false);
    hints.claimed({ idleElsewhere: true, saturated: true });
    hints.claimed({ idleElsewhere: null, saturated: false });
    expect(hints.skipOriginWalk).toBe(false);
  });

  it('reads the next due time once, until work may be due', () => {
    const hints = new ClaimHints();
    expect(hints.needsNextWake).toBe(true);
    hints.nextWakeRead();
    expect(hints.needsNextWake).toBe(false);
    hints.workMayBeDue();
    expect(hints.needsNextWake).toBe(true);
  });
});
