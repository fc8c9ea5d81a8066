/**
 * This process's attempts on the wire, per origin and in all: the slots the
 * caps count for it (other processes' come from their claims). Taken when a
 * claimed attempt is about to be sent, freed when its response (or failure)
 * is back; recording it afterwards holds no slot.
 */
export class OnWire {
  private readonly byOrigin = new Map<string, number>();
  private count = 0;

  get total(): number {
    return this.count;
  }

  /** The live per-origin counts (read by the claim, never changed by it). */
  get perOrigin(): ReadonlyMap<string, number> {
    return this.byOrigin;
  }

  take(origin: string): void {
    this.byOrigin.set(origin, (this.byOrigin.get(origin) ?? 0) + 1);
    this.count++;
  }

  free(origin: string): void {
    const held = this.byOrigin.get(origin);
    if (held === undefined) throw new Error(`no slot held for ${origin}`);
    if (held <= 1) this.byOrigin.delete(origin);
    else this.byOrigin.set(origin, held - 1);
    this.count--;
  }
}
