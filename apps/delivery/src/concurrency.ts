/**
 * Slots for attempts in flight: a global cap and a per-origin cap (SPEC §5),
 * so one slow or dead receiver holds at most its own slots and never delays
 * deliveries to other origins. Counts only; waiting is the claimer's job
 * (it never claims work it has no slot for). Optionally remembers which
 * workers hold the slots, so the claimer can skip the queue rows of workers
 * whose origin is full without joining their webhook.
 */
export class ConcurrencyLimits {
  private readonly perOrigin = new Map<string, number>();
  /** Slots held per worker, with the origin they were taken for (only for slots taken with a worker). */
  private readonly perWorker = new Map<string, { origin: string; count: number }>();
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

  /** Slots `origin` could still take now (both caps). */
  freeFor(origin: string): number {
    return Math.min(this.globalCap - this.total, this.perOriginCap - (this.perOrigin.get(origin) ?? 0));
  }

  /** Takes a slot for `origin` if both caps allow it (for `worker`'s attempt, when given). */
  tryAcquire(origin: string, worker?: string): boolean {
    const current = this.perOrigin.get(origin) ?? 0;
    if (this.total >= this.globalCap || current >= this.perOriginCap) return false;
    this.perOrigin.set(origin, current + 1);
    this.total++;
    if (worker !== undefined) {
      const held = this.perWorker.get(worker);
      if (held === undefined) this.perWorker.set(worker, { origin, count: 1 });
      else if (held.origin === origin) held.count++;
      // The same worker on two origins at once (its webhook moved): remember the latest; skipping is only an optimization.
      else this.perWorker.set(worker, { origin, count: held.count + 1 });
    }
    return true;
  }

  /** Gives back a slot taken with `tryAcquire` (with the same worker, if one was given). */
  release(origin: string, worker?: string): void {
    const current = this.perOrigin.get(origin);
    if (current === undefined) throw new Error(`no slot held for ${origin}`);
    if (current <= 1) this.perOrigin.delete(origin);
    else this.perOrigin.set(origin, current - 1);
    this.total--;
    if (worker !== undefined) {
      const held = this.perWorker.get(worker);
      if (held !== undefined && --held.count <= 0) this.perWorker.delete(worker);
    }
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

  /**
   * Workers holding a slot on an origin that is at its cap, as far as the
   * slots remember (the origin their attempt was claimed for): their queue
   * rows are probably blocked too. A hint: the caller checks it against the
   * webhooks as they are now before relying on it.
   */
  workersOnSaturatedOrigins(): string[] {
    const workers: string[] = [];
    for (const [worker, held] of this.perWorker) if (this.isSaturated(held.origin)) workers.push(worker);
    return workers;
  }
}
