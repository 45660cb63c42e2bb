import type { Readable } from 'node:stream';
import { OciError } from '../errors.js';
import { BlobVanishedError, type UploadRecord } from '../db/metadata.js';
import {
  BlobTooLargeError,
  DigestMismatchError,
  UploadBusyError,
  UploadMissingError,
  type UploadState,
} from '../storage/blob-store.js';
import type { RegistryContext } from './context.js';
import { checkDigest, checkName, checkUploadId } from './grammar.js';

/** A request body and whether the request carried one at all. */
export interface Body {
  stream: Readable;
  present: boolean;
  /** Declared Content-Length, when the client sent one. */
  length?: number | undefined;
}

/** `Content-Range: <start>-<end>` of a PATCH, inclusive. */
export interface ChunkRange {
  start: number;
  end: number;
}

export type StartResult =
  | { kind: 'created'; digest: string }
  | { kind: 'session'; id: string; offset: number };

export interface StartRequest {
  digest?: string | undefined;
  mount?: string | undefined;
  from?: string | undefined;
}

export function createUploads(ctx: RegistryContext) {
  const { metadata, blobs, config } = ctx;

  async function session(repository: string, id: string): Promise<UploadRecord> {
    checkUploadId(id);
    const upload = await metadata.getUpload(id);
    if (!upload || upload.repository !== repository) {
      throw new OciError('BLOB_UPLOAD_UNKNOWN', 'upload session unknown for this repository');
    }
    return upload;
  }

  async function open(repository: string): Promise<UploadRecord> {
    const id = await blobs.startUpload();
    const now = ctx.now();
    const upload = { id, repository, offset: 0, startedAt: now, updatedAt: now };
    await metadata.createUpload(upload);
    return upload;
  }

  /** Upload bodies being written now (each holds a file and a socket). */
  let writing = 0;

  /** Appends a body; `final` skips recording the offset when the commit follows at once. */
  async function write(upload: UploadRecord, body: Body, final = false): Promise<number> {
    const maxBlob = config.limits.maxBlobBytes;
    if (maxBlob > 0 && body.length !== undefined && upload.offset + body.length > maxBlob) {
      throw new OciError('SIZE_INVALID', `blob exceeds the limit of ${maxBlob} bytes`, { status: 413 });
    }
    if (writing >= config.limits.maxConcurrentUploads) {
      throw new OciError('TOOMANYREQUESTS', `more than ${config.limits.maxConcurrentUploads} uploads at once; try again shortly`, {
        headers: { 'retry-after': '1', connection: 'close' },
      });
    }
    let written: { size: number; state?: UploadState };
    writing += 1;
    try {
      written = await blobs.append(upload.id, body.stream, upload.offset, { maxSize: maxBlob, state: upload.state, length: body.length });
    } catch (err) {
      throw translateStoreError(err);
    } finally {
      writing -= 1;
    }
    if (!final && !(await metadata.advanceUpload(upload.id, upload.offset, written.size, written.state, ctx.now()))) {
      // Another process wrote to the session meanwhile (a client sending two chunks at once).
      throw new OciError('BLOB_UPLOAD_INVALID', 'the upload moved on while this chunk was written; ask where it is and go on from there', { status: 409 });
    }
    upload.offset = written.size;
    upload.state = written.state;
    return written.size;
  }

  async function finish(upload: UploadRecord, digest: string): Promise<string> {
    try {
      const commit = (): Promise<{ size: number }> => blobs.commit(upload.id, digest, upload.offset, upload.state);
      const { size } = await commit();
      await recordCommitted(commit, () => metadata.completeUpload(upload.id, upload.repository, { digest, size }, () => blobs.has(digest)));
      await blobs.abort(upload.id, upload.state);
      return digest;
    } catch (err) {
      if (err instanceof DigestMismatchError) {
        await discard(upload);
        throw new OciError('DIGEST_INVALID', 'provided digest did not match uploaded content', {
          detail: { expected: err.expected, actual: err.actual },
        });
      }
      throw translateStoreError(err);
    }
  }

  async function discard(upload: Pick<UploadRecord, 'id' | 'state'>): Promise<void> {
    await metadata.deleteUpload(upload.id);
    await blobs.abort(upload.id, upload.state);
  }

  return {
    /** POST: a cross-repository mount, a monolithic upload, or a new session. */
    async start(repository: string, request: StartRequest, body: Body): Promise<StartResult> {
      checkName(repository);
      if (request.mount !== undefined) {
        const digest = checkDigest(request.mount);
        if (request.from !== undefined && request.from !== repository) {
          checkName(request.from);
          if (await metadata.mountBlob(repository, digest, request.from)) return { kind: 'created', digest };
        }
        // The spec asks for a plain session when the blob cannot be mounted.
        const upload = await open(repository);
        return { kind: 'session', id: upload.id, offset: 0 };
      }
      if (request.digest !== undefined) {
        const digest = checkDigest(request.digest);
        const upload = await open(repository);
        try {
          if (body.present) await write(upload, body, true);
          return { kind: 'created', digest: await finish(upload, digest) };
        } catch (err) {
          await discard(upload).catch(() => undefined);
          throw err;
        }
      }
      const upload = await open(repository);
      return { kind: 'session', id: upload.id, offset: 0 };
    },

    /** PATCH: appends a chunk; out-of-order chunks are refused with 416. */
    async append(repository: string, id: string, body: Body, range: ChunkRange | undefined): Promise<number> {
      checkName(repository);
      const upload = await session(repository, id);
      if (range) {
        if (range.start !== upload.offset || range.end < range.start - 1) {
          throw new OciError('BLOB_UPLOAD_INVALID', `chunk starts at ${range.start}, upload is at ${upload.offset}`, {
            status: 416,
            detail: { offset: upload.offset },
          });
        }
        const rangeLength = range.end - range.start + 1;
        if (body.length !== undefined && body.length !== rangeLength) {
          throw new OciError('BLOB_UPLOAD_INVALID', `Content-Range covers ${rangeLength} bytes, Content-Length says ${body.length}`, {
            status: 416,
            detail: { offset: upload.offset },
          });
        }
        body = { ...body, length: body.length ?? rangeLength };
      }
      return write(upload, body);
    },

    /** GET: how many bytes the session holds. */
    async status(repository: string, id: string): Promise<number> {
      checkName(repository);
      return (await session(repository, id)).offset;
    },

    /** PUT: the optional last chunk, then digest check and commit. */
    async complete(repository: string, id: string, digestParam: string | undefined, body: Body): Promise<string> {
      checkName(repository);
      const upload = await session(repository, id);
      if (digestParam === undefined) throw new OciError('DIGEST_INVALID', 'the digest query parameter is required');
      const digest = checkDigest(digestParam);
      if (body.present) await write(upload, body, true);
      return finish(upload, digest);
    },

    /** DELETE: cancels a session and drops its bytes. */
    async cancel(repository: string, id: string): Promise<void> {
      checkName(repository);
      await discard(await session(repository, id));
    },

    /** Removes sessions idle for longer than the configured age, and files that lost their session. */
    async sweep(): Promise<number> {
      const before = ctx.now() - config.uploads.staleAfterSeconds * 1000;
      const stale = await metadata.staleUploads(before);
      for (const upload of stale) await discard(upload);
      // Files first: a session's row is written before its file, so a file listed before the rows
      // were read and still without one has lost its session (a session starting meanwhile is safe).
      const files = await blobs.listUploads();
      const known = await metadata.uploadIds();
      const orphans = files.filter((id) => !known.has(id));
      for (const id of orphans) await blobs.abort(id);
      return stale.length + orphans.length;
    },
  };
}

export type Uploads = ReturnType<typeof createUploads>;

/**
 * Records a committed blob. A garbage collection may remove the stored copy of an unreferenced
 * blob just as the same bytes arrive again; the upload is still there then, and is committed once more.
 */
export async function recordCommitted(commitAgain: (() => Promise<unknown>) | undefined, record: () => Promise<void>): Promise<void> {
  try {
    await record();
  } catch (err) {
    if (!(err instanceof BlobVanishedError) || !commitAgain) throw translateStoreError(err);
    await commitAgain();
    await record().catch((again: unknown) => {
      throw translateStoreError(again);
    });
  }
}

/** The client-facing error for a failure of the blob store, or the failure itself. */
export function translateStoreError(err: unknown): unknown {
  if (err instanceof BlobVanishedError) return new OciError('UNAVAILABLE', 'garbage collection removed this blob while it was being stored; upload it again', { status: 503 });
  if (err instanceof BlobTooLargeError) return new OciError('SIZE_INVALID', err.message, { status: 413 });
  if (err instanceof UploadBusyError) return new OciError('BLOB_UPLOAD_INVALID', err.message, { status: 409 });
  if (err instanceof UploadMissingError) return new OciError('BLOB_UPLOAD_UNKNOWN', 'upload session has no data');
  return err;
}

