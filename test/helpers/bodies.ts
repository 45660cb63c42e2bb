import type { Hash } from 'node:crypto';
import { Readable } from 'node:stream';

/**
 * `total` bytes of `block` over and over, hashed into `hash` as they go out: a large body that
 * costs no memory to make. Each chunk is a new Buffer, as a socket gives them, so that a store
 * that keeps chunks shows it in its memory.
 */
export function repeatingBody(total: number, block: Buffer, hash: Hash): Readable {
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= total) return this.push(null);
      const chunk = Buffer.from(block.subarray(0, Math.min(block.length, total - sent)));
      sent += chunk.length;
      hash.update(chunk);
      this.push(chunk);
    },
  });
}
