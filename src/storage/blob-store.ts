import type { Readable, Writable } from 'node:stream';

/** Inclusive byte range, as in HTTP `Range: bytes=start-end`. */
export interface ByteRange {
  start: number;
  end: number;
}

export interface StoredBlob {
  digest: string;
  size: number;
  /** When the file last changed or was renamed into place (ms since the epoch). */
  changedAt: number;
}

/**
 * A blob's bytes ready to go out: already opened, so a missing blob fails before a response
 * starts; written into the response when asked.
 */
export interface BlobContent {
  /** How many bytes `writeTo` writes. */
  length: number;
  /** All the bytes at once: for small blobs, cheaper than writing them into the response. */
  bytes(): Promise<Buffer>;
  /** Writes the bytes into `destination` without ending it; resolves once the last one is handed over. */
  writeTo(destination: Writable): Promise<void>;
  /** Lets go of what it holds without writing (a 304, a request that failed first). */
  close(): Promise<void>;
}

/** A store's own record of an unfinished upload (opaque to everyone else), kept with the upload session. */
export type UploadState = string | undefined;

/** Bytes only: a blob store knows digests and upload ids, nothing of repositories. */
export interface BlobStore {
  stat(digest: string): Promise<{ size: number } | undefined>;
  /** A stream of the blob's bytes (or a range of them), for reading them here; fails with BlobMissingError. */
  open(digest: string, range?: ByteRange): Promise<Readable>;
  /** The blob's bytes (or a range) for sending to a client, the cheapest way this store can; fails with BlobMissingError. */
  read(digest: string, range?: ByteRange): Promise<BlobContent>;
  /** Starts an empty upload and returns its id. */
  startUpload(): Promise<string>;
  /**
   * Appends a body at `offset` (which must be the upload's committed size), hashing while
   * writing, and makes the bytes durable before resolving with the new size. On any failure
   * the upload is left as it was before the call. `maxSize` bounds the upload's total size.
   *
   * `state` is what the previous append (or commit) returned, kept by the caller with the upload
   * session, so that any process can carry on an upload another one started: a store that needs
   * no such state (the disk store) returns none.
   */
  append(id: string, body: Readable, offset: number, options?: AppendOptions): Promise<{ size: number; state?: UploadState }>;
  /** Reads what an upload holds so far (to check it before it becomes a blob). */
  openUpload(id: string, state?: UploadState): Promise<Readable>;
  /** The sha256 digest and size of what an upload holds so far. */
  uploadDigest(id: string, state?: UploadState): Promise<{ digest: string; size: number }>;
  /**
   * Verifies that the upload's first `size` bytes (its acknowledged size; anything after them is
   * cut off) hash to `digest`, then makes them the blob, atomically and durably. The upload keeps
   * its bytes until `abort`: call it once the blob is recorded, so that a crash in between leaves
   * a session that can still be completed, and an upload whose stored copy garbage collection
   * removed before it was recorded can be committed again. Fails with UploadMissingError when the upload holds
   * fewer than `size` bytes.
   */
  commit(id: string, digest: string, size: number, state?: UploadState): Promise<{ size: number }>;
  /** Drops an upload's bytes (after a commit, or to cancel it); without its state, whatever the store finds under the id. */
  abort(id: string, state?: UploadState): Promise<void>;
  /**
   * Whether a blob is stored, and its removal. The metadata store calls them under the lock that
   * keeps a blob's registration from racing its removal by garbage collection; the embedded
   * (SQLite) one runs synchronous transactions and needs a store that answers synchronously.
   */
  has(digest: string): boolean | Promise<boolean>;
  remove(digest: string): void | Promise<void>;
  /** Every stored blob, with its size and when its file last changed. */
  list(): AsyncIterable<StoredBlob>;
  /** Ids of every upload that has bytes stored. */
  listUploads(): Promise<string[]>;
  /** Resolves when a new upload could be written (readiness); rejects with the reason otherwise. */
  checkWritable(): Promise<void>;
  /**
   * Present when the store is set to hand out downloads: a URL from which a client can fetch the
   * blob directly (a presigned URL, valid for a while), so that its bytes need not pass through here.
   */
  downloadUrl?(digest: string): Promise<string>;
}

export interface AppendOptions {
  /** Bound on the upload's total size. */
  maxSize?: number | undefined;
  /** What the previous append returned. */
  state?: UploadState;
  /** The body's length when it is known in advance (a Content-Length): a store may then stream it on without buffering. */
  length?: number | undefined;
}

export class BlobMissingError extends Error {
  constructor(readonly digest: string) {
    super(`no stored content for ${digest}`);
    this.name = 'BlobMissingError';
  }
}

export class DigestMismatchError extends Error {
  constructor(readonly expected: string, readonly actual: string) {
    super(`content digest ${actual} does not match ${expected}`);
    this.name = 'DigestMismatchError';
  }
}

export class BlobTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`blob exceeds the limit of ${limit} bytes`);
    this.name = 'BlobTooLargeError';
  }
}

export class UploadBusyError extends Error {
  constructor() {
    super('another request is writing to this upload');
    this.name = 'UploadBusyError';
  }
}

/** The store could not be reached or refused to work (a network failure, an outage, wrong credentials): the server's problem, not the client's. */
export class BlobStoreUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BlobStoreUnavailableError';
  }
}

export class UploadMissingError extends Error {
  constructor(readonly id: string) {
    super(`upload ${id} has no data`);
    this.name = 'UploadMissingError';
  }
}
