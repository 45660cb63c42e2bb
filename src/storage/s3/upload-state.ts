import { createSHA256, type IHasher } from 'hash-wasm';
import { UploadMissingError, type UploadState } from '../blob-store.js';

/**
 * An S3 upload, all of it in the state the registry keeps with the session, so that any process
 * can carry it on: the bytes so far are the multipart upload's parts (each exactly `partSize`
 * bytes; S3 wants at least 5 MiB in every part but the last, and some S3 stores want them all
 * the same size) followed by the tail object (fewer than `partSize` bytes).
 */
export interface S3Upload {
  /** Bytes so far. */
  size: number;
  /** The sha256 of those bytes so far: hash-wasm's saved state, base64. */
  hash: string;
  /** Fixed when the upload starts, so that a change of configuration does not mix part sizes. */
  partSize: number;
  /** Name of the multipart upload's object (under the upload) and S3's id of it, once the first part went out. */
  multipart?: { name: string; uploadId: string } | undefined;
  /** ETags of parts 1…n, in order: completion names them, so a part someone else wrote over fails it. */
  parts: string[];
  /** The tail object's name under the upload; none when the bytes end on a part boundary. */
  tail?: string | undefined;
  /**
   * The tail of the state this one replaced. It goes when this state comes back to an append: that
   * proves this state was recorded, so nobody continues from the one before.
   */
  replaced?: string | undefined;
}

const version = 1;

export async function freshUpload(partSize: number): Promise<S3Upload> {
  const hasher = await createSHA256();
  hasher.init();
  return { size: 0, hash: saveHash(hasher), partSize, parts: [] };
}

export function encodeUpload(upload: S3Upload): string {
  return JSON.stringify({ v: version, ...upload });
}

/** The upload a state describes; a state that is not one of ours is an upload this store does not have. */
export function decodeUpload(id: string, state: UploadState): S3Upload {
  let parsed: unknown;
  try {
    parsed = JSON.parse(state ?? '');
  } catch {
    throw new UploadMissingError(id);
  }
  if (!isUpload(parsed)) throw new UploadMissingError(id);
  const { v: _version, ...upload } = parsed;
  return upload;
}

function isUpload(value: unknown): value is S3Upload & { v: number } {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  const multipart = v.multipart as Record<string, unknown> | undefined;
  return (
    v.v === version &&
    Number.isSafeInteger(v.size) &&
    Number.isSafeInteger(v.partSize) &&
    typeof v.hash === 'string' &&
    Array.isArray(v.parts) &&
    v.parts.every((etag) => typeof etag === 'string') &&
    (multipart === undefined || (typeof multipart.name === 'string' && typeof multipart.uploadId === 'string')) &&
    (v.tail === undefined || typeof v.tail === 'string') &&
    (v.replaced === undefined || typeof v.replaced === 'string')
  );
}

/** How many of the upload's bytes are in its tail object. */
export function tailBytes(upload: S3Upload): number {
  return upload.size - upload.parts.length * upload.partSize;
}

/** The running sha256, carried on from the state (another process may have saved it). */
export async function resumeHash(id: string, upload: S3Upload): Promise<IHasher> {
  const hasher = await createSHA256();
  try {
    hasher.load(Buffer.from(upload.hash, 'base64'));
  } catch {
    // A state saved by an incompatible hash-wasm (a rolling upgrade): the parts cannot be read back
    // to hash them again, so the upload cannot be finished; the client starts it over.
    throw new UploadMissingError(id);
  }
  return hasher;
}

export function saveHash(hasher: IHasher): string {
  return Buffer.from(hasher.save()).toString('base64');
}

/** The digest of the bytes so far, leaving the state as it was. */
export async function uploadSha256(id: string, upload: S3Upload): Promise<string> {
  return `sha256:${(await resumeHash(id, upload)).digest('hex')}`;
}
