import { createHash, randomUUID, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, rmSync } from 'node:fs';
import { link, mkdir, readdir, stat, truncate, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { oneWriterPerUpload } from './exclusive.js';
import { sendFileRange } from './file-sender.js';
import { closeFd, openFd, readAt, statFd, syncPath, unlinkIfPresent } from './fs-calls.js';
import {
  BlobMissingError,
  BlobTooLargeError,
  DigestMismatchError,
  UploadMissingError,
  type BlobContent,
  type BlobStore,
  type ByteRange,
} from './blob-store.js';

const readBufferBytes = 1024 * 1024;
const writeBufferBytes = 1024 * 1024;

/** The sha256 state of an upload's committed bytes, kept so a finished upload is never read again. */
interface RunningHash {
  hash: Hash;
  size: number;
}

/** Where a blob's file lives under a data directory. */
export function blobFile(root: string, digest: string): string {
  const [algorithm, hex] = digest.split(':') as [string, string];
  return join(root, 'blobs', algorithm, hex.slice(0, 2), hex);
}

/**
 * Blobs at `<root>/blobs/<algorithm>/<2 hex>/<hex>`, uploads at `<root>/uploads/<id>`.
 * Callers validate digests and upload ids before they reach this module.
 */
export async function createDiskBlobStore(root: string): Promise<BlobStore> {
  const blobsDir = join(root, 'blobs');
  const uploadsDir = join(root, 'uploads');
  await mkdir(blobsDir, { recursive: true });
  await mkdir(uploadsDir, { recursive: true });

  const running = new Map<string, RunningHash>();
  const exclusively = oneWriterPerUpload();
  const knownDirs = new Set<string>();

  /** Creates a blob directory once, making its entry durable in the parent when it is new. */
  async function ensureDir(dir: string): Promise<void> {
    if (knownDirs.has(dir)) return;
    if ((await mkdir(dir, { recursive: true })) !== undefined) {
      await syncPath(dirname(dir));
      await syncPath(dirname(dirname(dir)));
    }
    knownDirs.add(dir);
  }

  const blobPath = (digest: string): string => blobFile(root, digest);
  const uploadPath = (id: string): string => join(uploadsDir, id);

  /** The running hash at `offset`, rebuilt from the file when the process restarted since. */
  async function hashAt(id: string, offset: number): Promise<RunningHash> {
    const known = running.get(id);
    if (known && known.size === offset) return known;
    const rebuilt = { hash: await hashFile(uploadPath(id), 'sha256', offset), size: offset };
    running.set(id, rebuilt);
    return rebuilt;
  }

  async function append(id: string, body: Readable, offset: number, maxSize?: number): Promise<{ size: number }> {
    return exclusively(id, async () => {
      const file = uploadPath(id);
      // A running hash at this offset means this process wrote every byte of the file itself;
      // otherwise (a restart, a failed request) the file is checked and cut back to the offset.
      if (running.get(id)?.size !== offset && offset > 0) {
        const onDisk = await fileSize(file);
        if (onDisk === undefined || onDisk < offset) throw new UploadMissingError(id);
        if (onDisk > offset) await truncate(file, offset);
      }
      const hash = (await hashAt(id, offset)).hash.copy();
      let size = offset;
      const hashing = new Transform({
        transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback) {
          size += chunk.length;
          if (maxSize !== undefined && maxSize > 0 && size > maxSize) return done(new BlobTooLargeError(maxSize));
          hash.update(chunk);
          done(null, chunk);
        },
      });
      // Opened before the body flows: a stream's own open can finish after a body that failed at
      // once was cleaned up, and create the file again. `flush` fsyncs before the stream closes:
      // the bytes are durable when the pipeline ends.
      const fd = await openFd(file, offset === 0 ? 'w' : 'r+');
      try {
        await pipeline(body, hashing, createWriteStream(file, { fd, start: offset, highWaterMark: writeBufferBytes, flush: true }));
      } catch (err) {
        // Back to where it was: no file before the first bytes; if the cut fails, forget the
        // running state so the next request checks the file.
        await (offset === 0 ? unlinkIfPresent(file) : truncate(file, offset)).catch(() => running.delete(id));
        throw err;
      }
      running.set(id, { hash, size });
      return { size };
    });
  }

  /**
   * Cuts the upload back to `size` (bytes past it were never acknowledged: a request that died
   * mid-write, possibly in an earlier process) and hashes exactly those bytes.
   */
  async function hashUpload(id: string, algorithm: string, size: number): Promise<string> {
    const file = uploadPath(id);
    if (running.get(id)?.size !== size) {
      const onDisk = await fileSize(file);
      if (size > 0 && (onDisk === undefined || onDisk < size)) throw new UploadMissingError(id);
      if (onDisk !== undefined && onDisk > size) await truncate(file, size);
    }
    // A session's file appears with its first bytes; an empty blob needs one to link.
    if (size === 0 && (await fileSize(file)) === undefined) await writeFile(file, '', { flush: true });
    const hash = algorithm === 'sha256' ? (await hashAt(id, size)).hash.copy() : await hashFile(file, algorithm, size);
    return hash.digest('hex');
  }

  async function commit(id: string, digest: string, size: number): Promise<{ size: number }> {
    return exclusively(id, async () => {
      const [algorithm, expectedHex] = digest.split(':') as [string, string];
      const actualHex = await hashUpload(id, algorithm, size);
      if (actualHex !== expectedHex) throw new DigestMismatchError(digest, `${algorithm}:${actualHex}`);

      const target = blobPath(digest);
      const existing = await fileSize(target);
      if (existing === size) return { size }; // the same bytes are stored already
      await ensureDir(dirname(target));
      // Never seen, but a wrong-sized file under a digest cannot be the blob: replace it.
      if (existing !== undefined) await unlinkIfPresent(target);
      // A second name, not a move: until the caller has recorded the blob and calls abort(), the
      // session keeps its bytes, so a crash in between leaves an upload that can still be finished,
      // and one whose stored copy garbage collection removed meanwhile can be committed again.
      try {
        await link(uploadPath(id), target);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') throw new UploadMissingError(id);
        // Another request committed the same digest at the same moment.
        if (code !== 'EEXIST' || (await fileSize(target)) !== size) throw err;
      }
      await syncPath(dirname(target));
      return { size };
    });
  }

  return {
    async stat(digest) {
      const size = await fileSize(blobPath(digest));
      return size === undefined ? undefined : { size };
    },
    async open(digest, range?: ByteRange) {
      const stream = createReadStream(blobPath(digest), { highWaterMark: readBufferBytes, ...(range ?? {}) });
      await new Promise<void>((resolve, reject) => {
        stream.once('open', () => resolve());
        stream.once('error', (err) => reject(missingAs(err, digest)));
      });
      return stream;
    },
    async read(digest, range?: ByteRange): Promise<BlobContent> {
      const fd = await openFd(blobPath(digest), 'r').catch((err: unknown) => {
        throw missingAs(err, digest);
      });
      let length: number;
      try {
        length = range ? range.end - range.start + 1 : (await statFd(fd)).size;
      } catch (err) {
        await closeFd(fd);
        throw err;
      }
      return {
        length,
        async bytes() {
          const bytes = Buffer.allocUnsafe(length);
          if ((await readAt(fd, bytes, length, range?.start ?? 0)) !== length) throw new Error(`${digest} ends early`);
          return bytes;
        },
        writeTo: (destination) => sendFileRange(fd, range?.start ?? 0, length, destination),
        close: () => closeFd(fd),
      };
    },
    async startUpload() {
      const id = randomUUID();
      running.set(id, { hash: createHash('sha256'), size: 0 });
      return id;
    },
    append: (id, body, offset, options) => append(id, body, offset, options?.maxSize),
    commit,
    async openUpload(id) {
      const size = running.get(id)?.size ?? (await fileSize(uploadPath(id))) ?? 0;
      return size === 0 ? Readable.from([]) : createReadStream(uploadPath(id), { start: 0, end: size - 1, highWaterMark: readBufferBytes });
    },
    async uploadDigest(id) {
      const size = running.get(id)?.size ?? (await fileSize(uploadPath(id))) ?? 0;
      return { digest: `sha256:${(await hashAt(id, size)).hash.copy().digest('hex')}`, size };
    },
    async abort(id) {
      running.delete(id);
      await unlinkIfPresent(uploadPath(id));
    },
    has(digest) {
      return existsSync(blobPath(digest));
    },
    remove(digest) {
      rmSync(blobPath(digest), { force: true });
    },
    async *list() {
      for (const algorithm of await readdir(blobsDir)) {
        for (const prefix of await readdir(join(blobsDir, algorithm))) {
          for (const hex of await readdir(join(blobsDir, algorithm, prefix))) {
            const info = await stat(join(blobsDir, algorithm, prefix, hex)).catch(() => undefined);
            // ctime, not mtime: the rename that makes an upload a blob changes only the former.
            if (/^[a-f0-9]{64,128}$/.test(hex) && info?.isFile()) yield { digest: `${algorithm}:${hex}`, size: info.size, changedAt: info.ctimeMs };
          }
        }
      }
    },
    async listUploads() {
      return readdir(uploadsDir);
    },
    async checkWritable() {
      const probe = join(root, `.ready-${randomUUID()}`);
      await writeFile(probe, 'ok');
      await unlink(probe);
    },
  };
}

/** A missing file as the store's error; anything else as it came. */
function missingAs(err: unknown, digest: string): unknown {
  return (err as NodeJS.ErrnoException).code === 'ENOENT' ? new BlobMissingError(digest) : err;
}

async function fileSize(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

async function hashFile(path: string, algorithm: string, length: number): Promise<Hash> {
  const hash = createHash(algorithm);
  if (length > 0) {
    await pipeline(createReadStream(path, { start: 0, end: length - 1, highWaterMark: readBufferBytes }), async (source: AsyncIterable<Buffer>) => {
      for await (const chunk of source) hash.update(chunk);
    });
  }
  return hash;
}

