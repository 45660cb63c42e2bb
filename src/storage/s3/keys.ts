import { randomUUID } from 'node:crypto';

/**
 * Where things live in the bucket, below an optional prefix (several registries, or other data,
 * can share a bucket):
 * - `blobs/<algorithm>/<2 hex>/<hex>`: blobs, the same layout as on disk;
 * - `uploads/<id>/tail-<random>`: an upload's bytes not yet in a multipart part (each write a new
 *   name: an object is never overwritten, so a state names exactly the bytes it was made with);
 * - `uploads/<id>/data-<random>`: the key of an upload's multipart upload, an object once completed;
 * - `.ready-<random>`: the readiness probe.
 */
export interface KeyLayout {
  blob(digest: string): string;
  blobs: string;
  /** The digest a key under `blobs` names, if it is one. */
  digestOf(key: string): string | undefined;
  uploads: string;
  /** Everything of one upload is below this. */
  upload(id: string): string;
  /** The upload a key under `uploads` belongs to. */
  uploadOf(key: string): string | undefined;
  /** A fresh name for one of an upload's objects (`kind-<random>`), and its key. */
  freshName(kind: 'tail' | 'data'): string;
  uploadObject(id: string, name: string): string;
  probe(): string;
}

/** '' or a prefix ending in one slash, without a leading one. */
export function normalizePrefix(prefix: string): string {
  const trimmed = prefix.replace(/^\/+|\/+$/g, '');
  return trimmed === '' ? '' : `${trimmed}/`;
}

export function keyLayout(prefix: string): KeyLayout {
  const root = normalizePrefix(prefix);
  const blobs = `${root}blobs/`;
  const uploads = `${root}uploads/`;
  const blobKey = /^([a-z0-9]+)\/([a-f0-9]{2})\/([a-f0-9]{64,128})$/;
  return {
    blob(digest) {
      const [algorithm, hex] = digest.split(':') as [string, string];
      return `${blobs}${algorithm}/${hex.slice(0, 2)}/${hex}`;
    },
    blobs,
    digestOf(key) {
      const match = key.startsWith(blobs) ? blobKey.exec(key.slice(blobs.length)) : null;
      return match && match[3]?.startsWith(match[2] as string) ? `${match[1]}:${match[3]}` : undefined;
    },
    uploads,
    upload: (id) => `${uploads}${id}/`,
    uploadOf(key) {
      if (!key.startsWith(uploads)) return undefined;
      const id = key.slice(uploads.length).split('/')[0];
      return id === undefined || id === '' ? undefined : id;
    },
    freshName: (kind) => `${kind}-${randomUUID()}`,
    uploadObject: (id, name) => `${uploads}${id}/${name}`,
    probe: () => `${root}.ready-${randomUUID()}`,
  };
}
