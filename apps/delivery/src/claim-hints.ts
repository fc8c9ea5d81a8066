/**
 * What the delivery loop remembers between claims to spare reads, with no
 * I/O. Both hints hold only until work may have become due somewhere: a
 * commit signalled it (this process's, or another's through NOTIFY), or a
 * timer fired (a due time, a lapsing claim, the poll). Then the next claim
 * reads everything again.
 *
 * - **Idle elsewhere**: the last claim walked the origins past a full
 *   origin's backlog and found no other origin with claimable work, so the
 *   next claims skip that walk (one seek per origin with pending rows).
 * - **Next wake known**: the next due time (or lapsing claim) was read and a
 *   timer set for it, so a claim that leaves work behind does not look it
 *   up again.
 */
export class ClaimHints {
  private idleElsewhere = false;
  private nextWakeKnown = false;

  /** Work may have become due anywhere: forget both hints. */
  workMayBeDue(): void {
    this.idleElsewhere = false;
    this.nextWakeKnown = false;
  }

  /** What a claim found (`idleElsewhere` null: it did not walk the origins). */
  claimed(claim: { idleElsewhere: boolean | null; saturated: boolean }): void {
    if (claim.idleElsewhere !== null) this.idleElsewhere = claim.idleElsewhere;
    // Nothing left behind: no full origin stands in the way of the next claim's due-order read.
    else if (!claim.saturated) this.idleElsewhere = false;
  }

  /** The next due time was read and a timer set for it. */
  nextWakeRead(): void {
    this.nextWakeKnown = true;
  }

  /** Whether the next claim may skip the walk over other origins. */
  get skipOriginWalk(): boolean {
    return this.idleElsewhere;
  }

  /** Whether the next due time must be read (it is not known since the last signal or timer). */
  get needsNextWake(): boolean {
    return !this.nextWakeKnown;
  }
}
