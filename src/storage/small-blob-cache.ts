import type { Writable } from 'node:stream';
import type { BlobContent, BlobStore, ByteRange } from './blob-store.js';

export interface SmallBlobLimits {
  /** Blobs up to this size are kept. */
  blobBytes: number;
  /** All kept blobs together; the least recently read go first. */
  totalBytes: number;
}

/**
 * Keeps small blobs read whole in memory, for a store where every read is a network request (S3):
 * a chart's archive and config are a few KiB and pulled again and again. A blob is named by its
 * digest, so a kept copy never goes stale; it is dropped when the blob is removed here. Whether a
 * repository may read it is decided before, from the metadata store.
 */
export function withSmallBlobCache(store: BlobStore, limits: SmallBlobLimits = { blobBytes: 64 * 1024, totalBytes: 64 * 1024 * 1024 }): BlobStore {
  // In order of use, the least recent first.
  const kept = new Map<string, Buffer>();
  let keptBytes = 0;

  function forget(digest: string): void {
    const bytes = kept.get(digest);
    if (!bytes) return;
    kept.delete(digest);
    keptBytes -= bytes.length;
  }

  function keep(digest: string, bytes: Buffer): void {
    forget(digest);
    kept.set(digest, bytes);
    keptBytes += bytes.length;
    for (const [oldest] of kept) {
      if (keptBytes <= limits.totalBytes) break;
      forget(oldest);
    }
  }

  return {
    ...store,
    async read(digest: string, range?: ByteRange): Promise<BlobContent> {
      const cached = kept.get(digest);
      if (cached) {
        keep(digest, cached);
        return inMemory(range ? cached.subarray(range.start, range.end + 1) : cached);
      }
      const content = await store.read(digest, range);
      if (range || content.length > limits.blobBytes) return content;
      let bytes: Buffer;
      try {
        bytes = await content.bytes();
      } finally {
        await content.close();
      }
      keep(digest, bytes);
      return inMemory(bytes);
    },
    remove(digest: string) {
      forget(digest);
      return store.remove(digest);
    },
  };
}

function inMemory(bytes: Buffer): BlobContent {
  return {
    length: bytes.length,
    bytes: async () => bytes,
    writeTo: (destination: Writable) =>
      new Promise<void>((resolve, reject) => {
        destination.write(bytes, (err) => (err ? reject(err) : resolve()));
      }),
    close: async () => undefined,
  };
}
