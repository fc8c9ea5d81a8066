/**
 * Slots for attempts in flight: a global cap and a per-origin cap (SPEC §5),
 * so one slow or dead receiver holds at most its own slots and never delays
 * deliveries to other origins. Counts only; waiting is the claimer's job
 * (it never claims work it has no slot for).
 */
export class ConcurrencyLimits {
  private readonly perOrigin = new Map<string, number>();
  private total = 0;

  constructor(
    readonly globalCap: number,
    readonly perOriginCap: number,
  ) {}

  /** Attempts in flight now. */
  get inFlight(): number {
    return this.total;
  }

  /** Global slots free now. */
  free(): number {
    return this.globalCap - this.total;
  }

  /** Takes a slot for `origin` if both caps allow it. */
  tryAcquire(origin: string): boolean {
    const current = this.perOrigin.get(origin) ?? 0;
    if (this.total >= this.globalCap || current >= this.perOriginCap) return false;
    this.perOrigin.set(origin, current + 1);
    this.total++;
    return true;
  }

  /** Gives back a slot taken with `tryAcquire`. */
  release(origin: string): void {
    const current = this.perOrigin.get(origin);
    if (current === undefined) throw new Error(`no slot held for ${origin}`);
    if (current <= 1) this.perOrigin.delete(origin);
    else this.perOrigin.set(origin, current - 1);
    this.total--;
  }

  /** Whether `origin` is at its cap. */
  isSaturated(origin: string): boolean {
    return (this.perOrigin.get(origin) ?? 0) >= this.perOriginCap;
  }

  /** Origins at their cap: the claim query skips their rows, so the LIMIT is spent on work that can start now. */
  saturatedOrigins(): string[] {
    const saturated: string[] = [];
    for (const [origin, count] of this.perOrigin) if (count >= this.perOriginCap) saturated.push(origin);
    return saturated;
  }
}
