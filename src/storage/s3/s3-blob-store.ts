import { createHash, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { Logger } from 'pino';
import {
  BlobMissingError,
  DigestMismatchError,
  UploadMissingError,
  type BlobContent,
  type BlobStore,
  type ByteRange,
  type UploadState,
} from '../blob-store.js';
import { oneWriterPerUpload } from '../exclusive.js';
import { sendStream } from '../stream-sender.js';
import { appendToUpload } from './append.js';
import { keyLayout } from './keys.js';
import { ObjectMissingError, bucketObjects, type BucketObjects } from './objects.js';
import { decodeUpload, freshUpload, uploadSha256, type S3Upload } from './upload-state.js';

export interface S3BlobStoreOptions {
  client: S3Client;
  bucket: string;
  prefix: string;
  partSize: number;
  log: Logger;
  /** Set to answer downloads with presigned URLs: the client to sign them with (it names the endpoint clients reach) and how long they last. */
  redirect?: { client: S3Client; seconds: number } | undefined;
  /** Larger objects are copied part by part; S3's own bound (5 GiB) unless a test wants to see that path. */
  maxSingleCopyBytes?: number;
}

/** Where an upload's bytes are as one object, and whether they still need to be checked against its digest. */
interface Assembled {
  key: string;
  checked: boolean;
}

/**
 * Blobs in an S3 bucket (keys in keys.ts). An upload is a multipart upload plus a tail object,
 * described entirely by the state the registry keeps with the session (append.ts), so any
 * process can carry on an upload another one started. Commit checks the digest from the running
 * hash, completes the multipart upload into an object under the upload, and copies that to the
 * blob's key: S3 makes an object visible whole or not at all, so a blob is never seen half-written.
 */
export function createS3BlobStore(options: S3BlobStoreOptions): BlobStore {
  const { bucket, partSize, log } = options;
  const keys = keyLayout(options.prefix);
  const objects: BucketObjects = bucketObjects(options.client, bucket, { maxSingleCopyBytes: options.maxSingleCopyBytes });
  const exclusively = oneWriterPerUpload();

  async function uploadOf(id: string, state: UploadState): Promise<S3Upload> {
    return state === undefined ? freshUpload(partSize) : decodeUpload(id, state);
  }

  async function blobObject(digest: string, range?: ByteRange) {
    try {
      return await objects.get(keys.blob(digest), range);
    } catch (err) {
      throw err instanceof ObjectMissingError ? new BlobMissingError(digest) : err;
    }
  }

  /**
   * The upload's bytes as one object. A multipart upload is completed (its tail copied in as the
   * last part) into its own key under the upload. Completed before (a repeated commit, a commit
   * after openUpload), the object there is taken only once it hashes to the digest: several states
   * can share one multipart upload (a chunk written again after a failed request), and only a
   * hash tells which of them completed it.
   */
  async function assemble(id: string, upload: S3Upload): Promise<Assembled> {
    if (!upload.multipart) {
      if (upload.tail === undefined) throw new UploadMissingError(id);
      return { key: keys.uploadObject(id, upload.tail), checked: true };
    }
    const key = keys.uploadObject(id, upload.multipart.name);
    const { uploadId } = upload.multipart;
    try {
      const etags = [...upload.parts];
      if (upload.tail !== undefined) etags.push(await objects.copyPart(keys.uploadObject(id, upload.tail), key, uploadId, etags.length + 1));
      await objects.completeMultipart(key, uploadId, etags);
      return { key, checked: true };
    } catch (err) {
      if (!(err instanceof ObjectMissingError)) throw err;
      if ((await objects.size(key)) !== upload.size) throw new UploadMissingError(id);
      return { key, checked: false };
    }
  }

  async function hashObject(key: string, algorithm: string): Promise<string> {
    const hash = createHash(algorithm);
    const { body } = await objects.get(key);
    for await (const chunk of body as AsyncIterable<Buffer>) hash.update(chunk);
    return `${algorithm}:${hash.digest('hex')}`;
  }

  async function commit(id: string, digest: string, size: number, state: UploadState): Promise<{ size: number }> {
    const upload = await uploadOf(id, state);
    // The state names exactly the acknowledged bytes: one that disagrees is not this upload's.
    if (upload.size !== size) throw new UploadMissingError(id);
    const algorithm = digest.split(':')[0] as string;
    if (algorithm === 'sha256') {
      const actual = await uploadSha256(id, upload);
      if (actual !== digest) throw new DigestMismatchError(digest, actual);
    }
    const target = keys.blob(digest);
    if ((await objects.size(target)) === size) return { size }; // the same bytes are stored already
    if (size === 0) {
      await objects.put(target, Buffer.alloc(0), 0);
      return { size };
    }
    try {
      const source = await assemble(id, upload);
      // Other digests than sha256 are rare enough to read the bytes back for (as the disk store does).
      if (algorithm !== 'sha256' || !source.checked) {
        const actual = await hashObject(source.key, algorithm);
        if (actual !== digest) throw algorithm === 'sha256' ? new UploadMissingError(id) : new DigestMismatchError(digest, actual);
      }
      await objects.copy(source.key, target, size);
    } catch (err) {
      // The upload's objects went away meanwhile (aborted by another request, or a sweep).
      throw err instanceof ObjectMissingError ? new UploadMissingError(id) : err;
    }
    return { size };
  }

  async function abort(id: string, state: UploadState): Promise<void> {
    const known = state === undefined ? undefined : await uploadOf(id, state).catch(() => undefined);
    if (known?.multipart) await objects.abortMultipart(keys.uploadObject(id, known.multipart.name), known.multipart.uploadId);
    // Whatever else is there: multipart uploads and tails of requests whose state was never recorded.
    for await (const { key, uploadId } of objects.multipartUploads(keys.upload(id))) await objects.abortMultipart(key, uploadId);
    for await (const { key } of objects.list(keys.upload(id))) await objects.remove(key);
  }

  const store: BlobStore = {
    async stat(digest) {
      const size = await objects.size(keys.blob(digest));
      return size === undefined ? undefined : { size };
    },
    async open(digest, range?: ByteRange) {
      return (await blobObject(digest, range)).body;
    },
    async read(digest, range?: ByteRange): Promise<BlobContent> {
      const { body, length } = await blobObject(digest, range);
      return {
        length,
        async bytes() {
          const chunks: Buffer[] = [];
          for await (const chunk of body as AsyncIterable<Buffer>) chunks.push(chunk);
          const bytes = Buffer.concat(chunks);
          if (bytes.length !== length) throw new Error(`${digest} ends early`);
          return bytes;
        },
        writeTo: (destination) => sendStream(body, length, destination),
        async close() {
          body.destroy();
        },
      };
    },
    async startUpload() {
      // Nothing in S3 until the first bytes arrive.
      return randomUUID();
    },
    append: (id, body, offset, appendOptions) => exclusively(id, () => appendToUpload({ objects, keys, partSize, log }, id, body, offset, appendOptions)),
    commit: (id, digest, size, state) => exclusively(id, () => commit(id, digest, size, state)),
    async openUpload(id, state) {
      const upload = await uploadOf(id, state);
      if (upload.size === 0) return Readable.from([]);
      try {
        return (await objects.get((await assemble(id, upload)).key)).body;
      } catch (err) {
        throw err instanceof ObjectMissingError ? new UploadMissingError(id) : err;
      }
    },
    async uploadDigest(id, state) {
      const upload = await uploadOf(id, state);
      return { digest: await uploadSha256(id, upload), size: upload.size };
    },
    abort,
    async has(digest) {
      return (await objects.size(keys.blob(digest))) !== undefined;
    },
    async remove(digest) {
      await objects.remove(keys.blob(digest));
    },
    async *list() {
      for await (const object of objects.list(keys.blobs)) {
        const digest = keys.digestOf(object.key);
        if (digest !== undefined) yield { digest, size: object.size, changedAt: object.lastModified };
      }
    },
    async listUploads() {
      const ids = new Set<string>();
      for await (const folder of objects.folders(keys.uploads)) ids.add(keys.uploadOf(folder) ?? '');
      for await (const { key } of objects.multipartUploads(keys.uploads)) ids.add(keys.uploadOf(key) ?? '');
      ids.delete('');
      return [...ids];
    },
    async checkWritable() {
      const probe = keys.probe();
      await objects.put(probe, Buffer.from('ok'), 2);
      await objects.remove(probe);
    },
  };
  if (options.redirect) {
    const { client, seconds } = options.redirect;
    store.downloadUrl = (digest) => getSignedUrl(client, new GetObjectCommand({ Bucket: bucket, Key: keys.blob(digest) }), { expiresIn: seconds });
  }
  return store;
}
