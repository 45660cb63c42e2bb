import type { Writable } from 'node:stream';
import { readAt } from './fs-calls.js';

// Sending a file through a stream allocates a fresh buffer for every chunk; at gigabytes per second
// the allocations, page faults and collections cost more CPU than the copying itself. Chunks here
// come from a small pool and go back to it once the socket has taken their bytes.
const chunkBytes = 1024 * 1024;
const pooledChunks = 16;
const pool: Buffer[] = [];

function takeChunk(): Buffer {
  return pool.pop() ?? Buffer.allocUnsafeSlow(chunkBytes);
}

function giveBack(chunk: Buffer): void {
  if (pool.length < pooledChunks) pool.push(chunk);
}

export class DestinationClosedError extends Error {
  constructor() {
    super('the destination closed before every byte was written');
    this.name = 'DestinationClosedError';
  }
}

/** Resolves once `destination` has handed `bytes` to the OS, so that their memory may be reused. */
function write(destination: Writable, bytes: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const onClose = (): void => reject(new DestinationClosedError());
    destination.once('close', onClose);
    destination.write(bytes, (err) => {
      destination.off('close', onClose);
      if (err) reject(err);
      else resolve();
    });
  });
}

/**
 * Writes `length` bytes of an open file from `start` into `destination`, reading the next chunk
 * while the previous one is being sent. A chunk whose write did not finish is never pooled again:
 * the socket may still hold it.
 */
export async function sendFileRange(fd: number, start: number, length: number, destination: Writable): Promise<void> {
  let position = start;
  let left = length;
  let sending: Promise<void> | undefined;
  while (left > 0) {
    const chunk = takeChunk();
    const bytesRead = await readAt(fd, chunk, Math.min(chunk.length, left), position);
    if (bytesRead === 0) throw new Error(`the file ends ${left} bytes early`);
    position += bytesRead;
    left -= bytesRead;
    await sending;
    sending = write(destination, bytesRead === chunk.length ? chunk : chunk.subarray(0, bytesRead)).then(() => giveBack(chunk));
    // It may fail while the next chunk is read; the next await reports it.
    sending.catch(() => undefined);
  }
  await sending;
}
