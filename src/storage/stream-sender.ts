import type { Readable, Writable } from 'node:stream';
import { DestinationClosedError } from './file-sender.js';

/** Resolves once `destination` wants more bytes; rejects if it closes first. */
function drained(destination: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    const onDrain = (): void => {
      destination.off('close', onClose);
      resolve();
    };
    const onClose = (): void => {
      destination.off('drain', onDrain);
      reject(new DestinationClosedError());
    };
    destination.once('drain', onDrain);
    destination.once('close', onClose);
  });
}

/**
 * Writes a stream's `length` bytes into `destination` without ending it, as fast as the
 * destination takes them. The source is left to the caller (to destroy when this fails).
 */
export async function sendStream(source: Readable, length: number, destination: Writable): Promise<void> {
  let sent = 0;
  for await (const chunk of source as AsyncIterable<Buffer>) {
    if (destination.destroyed) throw new DestinationClosedError();
    sent += chunk.length;
    if (!destination.write(chunk)) await drained(destination);
  }
  if (sent !== length) throw new Error(`the stored blob ended after ${sent} of ${length} bytes`);
}
