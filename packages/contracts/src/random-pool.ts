import { randomFillSync } from 'node:crypto';

const POOL_SIZE = 8 * 1024;
const pool = Buffer.allocUnsafe(POOL_SIZE);
let offset = POOL_SIZE;

/**
 * `length` cryptographically secure random bytes (a fresh copy), drawn from a
 * pool refilled by the OS CSPRNG 8 KiB at a time: one system call per few
 * hundred ids or secrets instead of one each, as Node's own randomUUID does.
 */
export function secureRandomBytes(length: number): Buffer {
  if (length > POOL_SIZE) return randomFillSync(Buffer.allocUnsafe(length));
  if (offset + length > POOL_SIZE) {
    randomFillSync(pool);
    offset = 0;
  }
  const bytes = Buffer.from(pool.subarray(offset, offset + length));
  pool.fill(0, offset, offset + length); // a handed-out byte never stays behind in the pool
  offset += length;
  return bytes;
}

/** A uniform float in [0, 1) from the pool, for libraries that take a PRNG (e.g. ulid). */
export const secureRandomFloat = (): number => secureRandomBytes(4).readUInt32BE(0) / 0x1_0000_0000;
