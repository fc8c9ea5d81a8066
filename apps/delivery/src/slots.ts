import type { SendLimits } from '@handinger-webhooks/projections';

/** What a slot is held by: anything with an origin (the pipeline's claimed attempts). */
export interface Slotted {
  readonly origin: string;
}

/**
 * This process's slots (SPEC §5 caps), with no I/O: which claimed attempts
 * are on the wire, which wait for a slot, and which may go next.
 *
 * A slot is a request on the wire: taken when it is sent, freed when its
 * response (or failure) is back. Claimed attempts wait here, per origin in
 * claim order, until their origin and the whole process have a slot under
 * the limits of the latest claim (the caps less what other processes
 * hold). So a slot that frees is filled at once from what this process
 * holds, without waiting for the next claim.
 *
 * Answered attempts count until recorded, too: an origin never has more than
 * twice its cap sent and not recorded, which bounds what a crash makes the
 * next process send again.
 */
export class Slots<T extends Slotted> {
  private readonly waiting = new Map<string, T[]>();
  private readonly onWireByOrigin = new Map<string, number>();
  private readonly unrecordedByOrigin = new Map<string, number>();
  private waitingCount = 0;
  private onWireCount = 0;
  private limits: SendLimits;

  constructor(globalCap: number, perOriginCap: number) {
    this.limits = { global: globalCap, perOrigin: new Map(), perOriginCap };
  }

  /** Attempts on the wire. */
  get onWire(): number {
    return this.onWireCount;
  }

  /** Attempts claimed and waiting for a slot. */
  get queued(): number {
    return this.waitingCount;
  }

  /** Attempts of one origin waiting for a slot. */
  waitingFor(origin: string): number {
    return this.waiting.get(origin)?.length ?? 0;
  }

  /** Per origin, what holds or waits for a slot (the claim counts it in place of this process's claims). */
  held(): Map<string, number> {
    const held = new Map(this.onWireByOrigin);
    for (const [origin, list] of this.waiting) held.set(origin, (held.get(origin) ?? 0) + list.length);
    return held;
  }

  /** The limits of the latest claim (they replace the previous ones). */
  setLimits(limits: SendLimits): void {
    this.limits = limits;
  }

  /** Claimed attempts join the end of their origin's line. */
  enqueue(attempts: readonly T[]): void {
    for (const attempt of attempts) {
      const line = this.waiting.get(attempt.origin);
      if (line === undefined) this.waiting.set(attempt.origin, [attempt]);
      else line.push(attempt);
    }
    this.waitingCount += attempts.length;
  }

  /**
   * Takes the slots that are free and returns what goes on the wire now:
   * each origin's line in order, origins in turn, within both limits.
   */
  takeSendable(): T[] {
    const out: T[] = [];
    while (this.waitingCount > 0 && this.onWireCount < this.limits.global) {
      let took = false;
      for (const [origin, line] of this.waiting) {
        if (this.onWireCount >= this.limits.global) break;
        const onWire = this.onWireByOrigin.get(origin) ?? 0;
        if (onWire >= this.limitFor(origin) || onWire + (this.unrecordedByOrigin.get(origin) ?? 0) >= 2 * this.limits.perOriginCap) continue;
        out.push(this.take(origin, line));
        took = true;
      }
      if (!took) break;
    }
    return out;
  }

  /** A response (or failure) came back: the slot is free; the attempt waits to be recorded. */
  answered(origin: string): void {
    decrement(this.onWireByOrigin, origin, 'no slot held');
    this.onWireCount--;
    this.unrecordedByOrigin.set(origin, (this.unrecordedByOrigin.get(origin) ?? 0) + 1);
  }

  /** An answered attempt was recorded (or will not be: its claim lapses). */
  recorded(origin: string): void {
    decrement(this.unrecordedByOrigin, origin, 'no answered attempt');
  }

  /** Everything still waiting, removed (a stop gives it back). */
  drain(): T[] {
    const all = [...this.waiting.values()].flat();
    this.waiting.clear();
    this.waitingCount = 0;
    return all;
  }

  /** Removes and returns the waiting attempts `expired` picks (their claims would lapse before the send could end). */
  removeWaiting(expired: (attempt: T) => boolean): T[] {
    const out: T[] = [];
    for (const [origin, line] of this.waiting) {
      const keep = line.filter((attempt) => !expired(attempt) || (out.push(attempt), false));
      if (keep.length === 0) this.waiting.delete(origin);
      else this.waiting.set(origin, keep);
    }
    this.waitingCount -= out.length;
    return out;
  }

  private limitFor(origin: string): number {
    return this.limits.perOrigin.get(origin) ?? this.limits.perOriginCap;
  }

  private take(origin: string, line: T[]): T {
    const attempt = line.shift()!;
    if (line.length === 0) this.waiting.delete(origin);
    this.waitingCount--;
    this.onWireByOrigin.set(origin, (this.onWireByOrigin.get(origin) ?? 0) + 1);
    this.onWireCount++;
    return attempt;
  }
}

function decrement(counts: Map<string, number>, origin: string, what: string): void {
  const n = counts.get(origin);
  if (n === undefined) throw new Error(`${what} for ${origin}`);
  if (n <= 1) counts.delete(origin);
  else counts.set(origin, n - 1);
}
