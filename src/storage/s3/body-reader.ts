import { Readable } from 'node:stream';

/** A body that ended before the length it declared: the client went away. */
export class BodyEndedEarlyError extends Error {
  readonly code = 'ERR_STREAM_PREMATURE_CLOSE';
  constructor(missing: number) {
    super(`the body ended ${missing} bytes before its declared length`);
    this.name = 'BodyEndedEarlyError';
  }
}

export interface BodyReader {
  /** A stream of exactly the body's next `length` bytes; it fails if the body ends sooner. */
  slice(length: number): Readable;
  /** The body's next bytes, `max` of them unless it ends first. */
  collect(max: number): Promise<{ chunks: Buffer[]; length: number }>;
}

/**
 * Reads a body in pieces of the sizes asked for. Each byte is handed to `onBytes` (counting,
 * hashing) once, as it is taken; `onBytes` may throw to fail the read.
 */
export function readBody(body: Readable, onBytes: (chunk: Buffer) => void): BodyReader {
  const chunks = (body as AsyncIterable<Buffer | string>)[Symbol.asyncIterator]();
  let held: Buffer | undefined;
  let ended = false;

  /** Up to `max` bytes of the body, or undefined at its end. */
  async function take(max: number): Promise<Buffer | undefined> {
    while (!held || held.length === 0) {
      if (ended) return undefined;
      const next = await chunks.next();
      if (next.done) {
        ended = true;
        return undefined;
      }
      held = typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
    }
    const chunk = held.length <= max ? held : held.subarray(0, max);
    held = held.length <= max ? undefined : held.subarray(max);
    onBytes(chunk);
    return chunk;
  }

  return {
    slice(length) {
      async function* exactly(): AsyncGenerator<Buffer> {
        for (let left = length; left > 0; ) {
          const chunk = await take(left);
          if (!chunk) throw new BodyEndedEarlyError(left);
          left -= chunk.length;
          yield chunk;
        }
      }
      return Readable.from(exactly(), { objectMode: false, highWaterMark: 64 * 1024 });
    },
    async collect(max) {
      const collected: Buffer[] = [];
      let length = 0;
      for (let chunk = await take(max); chunk; chunk = length < max ? await take(max - length) : undefined) {
        collected.push(chunk);
        length += chunk.length;
      }
      return { chunks: collected, length };
    },
  };
}
