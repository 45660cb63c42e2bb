import { createCipheriv, createHash } from 'node:crypto';

/**
 * A seeded pseudo-random source (mulberry32): the same seed gives the same sizes, choices and
 * bytes, so a failing case can be run again. Not for anything secret.
 */
export function createRng(seed: number) {
  let state = seed >>> 0;
  function next(): number {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  const int = (min: number, max: number): number => min + Math.floor(next() * (max - min + 1));
  return {
    next,
    /** An integer in [min, max]. */
    int,
    chance: (p: number): boolean => next() < p,
    pick<T>(items: readonly T[]): T {
      return items[Math.floor(next() * items.length)] as T;
    },
    /** Log-uniform in [min, max]: as many small sizes as big ones. */
    size: (min: number, max: number): number => Math.round(Math.exp(Math.log(min) + next() * (Math.log(max) - Math.log(min)))),
    /** A new seed for a sub-stream. */
    seed: (): number => int(0, 0xffffffff),
    /** `length` pseudo-random bytes. */
    bytes: (length: number): Buffer => seededBytes(int(0, 0xffffffff), length),
  };
}

export type Rng = ReturnType<typeof createRng>;

/** `length` bytes that depend only on `seed` (AES-CTR keystream): regenerated, never kept. */
export function seededBytes(seed: number, length: number): Buffer {
  const key = createHash('sha256').update(`chartroom-reliability-${seed}`).digest();
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  return cipher.update(Buffer.alloc(length));
}
