import { OciError } from '../errors.js';
import { BlobMissingError, type BlobContent, type ByteRange } from '../storage/blob-store.js';
import type { RegistryContext } from './context.js';
import { checkDigest, checkName } from './grammar.js';

export interface BlobRead {
  digest: string;
  size: number;
  /** Present when the request asked for a satisfiable single range. */
  range?: ByteRange;
  /** Absent for HEAD. */
  content?: BlobContent;
  /** Where to fetch the bytes instead, when the store hands out URLs (the client's Range goes there too). */
  redirect?: string;
}

/**
 * Parses a `Range` header against a blob's size. Undefined means "send it all": no header, a
 * header we do not understand, or several ranges (RFC 9110 lets a server ignore Range).
 */
export function parseRange(header: string | undefined, size: number): ByteRange | undefined {
  if (header === undefined) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  const [, first = '', last = ''] = match;
  let range: ByteRange;
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0) throw unsatisfiable(size);
    range = { start: Math.max(0, size - suffix), end: size - 1 };
  } else {
    const start = Number(first);
    const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
    if (last !== '' && Number(last) < start) return undefined;
    range = { start, end };
  }
  if (range.start >= size || !Number.isSafeInteger(range.start)) throw unsatisfiable(size);
  return range;
}

function unsatisfiable(size: number): OciError {
  return new OciError('RANGE_INVALID', 'requested range not satisfiable', {
    status: 416,
    headers: { 'content-range': `bytes */${size}` },
  });
}

/** A recorded blob's bytes; a record whose content went missing is a BLOB_UNKNOWN, not a server error. */
export async function readContent(blobs: RegistryContext['blobs'], digest: string, range?: ByteRange): Promise<BlobContent> {
  try {
    return await blobs.read(digest, range);
  } catch (err) {
    if (err instanceof BlobMissingError) throw new OciError('BLOB_UNKNOWN', 'blob content is missing', { detail: { digest } });
    throw err;
  }
}

export function createBlobs(ctx: RegistryContext) {
  const { metadata, blobs } = ctx;

  async function linked(repository: string, digestParam: string): Promise<{ digest: string; size: number }> {
    checkName(repository);
    const digest = checkDigest(digestParam);
    const blob = await metadata.linkedBlob(repository, digest);
    if (!blob) throw new OciError('BLOB_UNKNOWN', 'blob unknown to this repository', { detail: { digest } });
    return { digest, size: blob.size };
  }

  return {
    async head(repository: string, digest: string): Promise<BlobRead> {
      return linked(repository, digest);
    },

    async get(repository: string, digestParam: string, rangeHeader: string | undefined): Promise<BlobRead> {
      const { digest, size } = await linked(repository, digestParam);
      if (blobs.downloadUrl) return { digest, size, redirect: await blobs.downloadUrl(digest) };
      const range = size === 0 ? undefined : parseRange(rangeHeader, size);
      const content = await readContent(blobs, digest, range);
      return range ? { digest, size, range, content } : { digest, size, content };
    },

    /** Unlinks the blob from the repository; the bytes go when garbage collection finds them unused. */
    async delete(repository: string, digestParam: string): Promise<void> {
      checkName(repository);
      const digest = checkDigest(digestParam);
      if (!(await metadata.unlinkBlob(repository, digest))) {
        throw new OciError('BLOB_UNKNOWN', 'blob unknown to this repository', { detail: { digest } });
      }
    },
  };
}

export type Blobs = ReturnType<typeof createBlobs>;
