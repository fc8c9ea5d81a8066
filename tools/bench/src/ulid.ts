import { randomFillSync } from 'node:crypto';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const pool = new Uint8Array(16 * 1024);
let offset = pool.length;
let lastMs = -1;
const lastRandom = new Uint8Array(16);

/**
 * A monotonic ULID (Crockford base32, 48-bit time + 80 random bits) for time
 * `ms`: within one millisecond the random part is incremented, so ids sort
 * in the order they were minted (as the product's monotonic generator does).
 * Randomness comes from a pooled buffer: `ulid`'s default generator calls
 * crypto.getRandomValues once per character, which would dominate seeding a
 * million rows (see the bench README).
 */
export function fastUlid(ms: number): string {
  if (ms === lastMs) {
    // Increment the 80-bit random part (16 base-32 digits) with carry.
    for (let i = 15; i >= 0; i--) {
      if (lastRandom[i]! < 31) {
        lastRandom[i]!++;
        break;
      }
      lastRandom[i] = 0;
    }
  } else {
    lastMs = ms;
    if (offset + 16 > pool.length) {
      randomFillSync(pool);
      offset = 0;
    }
    for (let i = 0; i < 16; i++) lastRandom[i] = pool[offset++]! & 31;
    lastRandom[0] = lastRandom[0]! & 15; // leave headroom so increments never overflow the top digit
  }
  let time = '';
  let t = ms;
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32]! + time;
    t = Math.floor(t / 32);
  }
  let random = '';
  for (let i = 0; i < 16; i++) random += CROCKFORD[lastRandom[i]!]!;
  return time + random;
}
