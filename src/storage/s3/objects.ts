import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
import { BlobStoreUnavailableError } from '../blob-store.js';

/** An object, or a multipart upload, that is not there (any more). */
export class ObjectMissingError extends Error {
  constructor(readonly key: string) {
    super(`no object ${key}`);
    this.name = 'ObjectMissingError';
  }
}

export interface ListedObject {
  key: string;
  size: number;
  lastModified: number;
}

export interface StoredObject {
  body: Readable;
  length: number;
}

/** What stands for "not there" in S3's answers; a missing bucket is a broken setup, not a missing object. */
const missingCodes = new Set(['NoSuchKey', 'NotFound', 'NoSuchUpload', 'InvalidPart']);
/** A single CopyObject takes at most 5 GiB. */
const maxSingleCopyBytes = 5 * 1024 ** 3;

/**
 * S3 operations on one bucket as the blob store needs them. Every failure comes out as one of
 * three things: ObjectMissingError, an abort (the caller aborted the request: its own reason
 * matters), or BlobStoreUnavailableError naming the operation and S3's error code: never the
 * SDK's error, which carries the request.
 */
export function bucketObjects(client: S3Client, bucket: string, options: { maxSingleCopyBytes?: number } = {}) {
  const copyLimit = options.maxSingleCopyBytes ?? maxSingleCopyBytes;

  function failure(operation: string, key: string, err: unknown): Error {
    const { name, $metadata } = err as { name?: string; $metadata?: { httpStatusCode?: number } };
    if (name !== undefined && missingCodes.has(name)) return new ObjectMissingError(key);
    if (name === 'AbortError') return err as Error;
    const code = (err as { code?: unknown }).code;
    const what = typeof code === 'string' ? code : (name ?? 'an unknown error');
    const status = $metadata?.httpStatusCode === undefined ? '' : ` (HTTP ${$metadata.httpStatusCode})`;
    return new BlobStoreUnavailableError(`S3 ${operation} failed: ${what}${status}`);
  }

  async function call<T>(operation: string, key: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (err) {
      throw failure(operation, key, err);
    }
  }

  /** `bucket/key` as CopySource wants it: URL-encoded, slashes kept. */
  const copySource = (key: string): string => `${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;

  async function* pages<T>(operation: string, prefix: string, fetchPage: (token: string | undefined) => Promise<{ items: T[]; next: string | undefined }>): AsyncGenerator<T> {
    let token: string | undefined;
    do {
      const page = await call(operation, prefix, () => fetchPage(token));
      yield* page.items;
      token = page.next;
    } while (token !== undefined);
  }

  async function createMultipart(key: string): Promise<string> {
    const { UploadId } = await call('CreateMultipartUpload', key, () =>
      client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ContentType: 'application/octet-stream' })),
    );
    if (!UploadId) throw new BlobStoreUnavailableError('S3 CreateMultipartUpload answered without an upload id');
    return UploadId;
  }

  async function completeMultipart(key: string, uploadId: string, etags: string[]): Promise<void> {
    const Parts = etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 }));
    // radosgw 16 answers with an empty ETag here; nothing below needs it.
    await call('CompleteMultipartUpload', key, () =>
      client.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts } })),
    );
  }

  async function abortMultipart(key: string, uploadId: string): Promise<void> {
    try {
      await call('AbortMultipartUpload', key, () => client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId })));
    } catch (err) {
      if (!(err instanceof ObjectMissingError)) throw err;
    }
  }

  async function copyPart(source: string, key: string, uploadId: string, partNumber: number, range?: { start: number; end: number }): Promise<string> {
    const { CopyPartResult } = await call('UploadPartCopy', source, () =>
      client.send(
        new UploadPartCopyCommand({
          Bucket: bucket,
          Key: key,
          UploadId: uploadId,
          PartNumber: partNumber,
          CopySource: copySource(source),
          ...(range ? { CopySourceRange: `bytes=${range.start}-${range.end}` } : {}),
        }),
      ),
    );
    if (!CopyPartResult?.ETag) throw new BlobStoreUnavailableError('S3 UploadPartCopy answered without an ETag');
    return CopyPartResult.ETag;
  }

  return {
    /** The object's size, or undefined when there is none. */
    async size(key: string): Promise<number | undefined> {
      try {
        const head = await call('HeadObject', key, () => client.send(new HeadObjectCommand({ Bucket: bucket, Key: key })));
        return head.ContentLength ?? 0;
      } catch (err) {
        if (err instanceof ObjectMissingError) return undefined;
        throw err;
      }
    },

    /** The object's bytes (or an inclusive range of them), once S3 has started to send them. */
    async get(key: string, range?: { start: number; end: number }): Promise<StoredObject> {
      const object = await call('GetObject', key, () =>
        client.send(new GetObjectCommand({ Bucket: bucket, Key: key, ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}) })),
      );
      if (!(object.Body instanceof Readable)) throw new BlobStoreUnavailableError('S3 GetObject answered without a body stream');
      return { body: object.Body, length: object.ContentLength ?? 0 };
    },

    /** Writes an object of `length` bytes; aborting `signal` cancels it (a body that failed). */
    async put(key: string, body: Readable | Buffer, length: number, signal?: AbortSignal): Promise<void> {
      await call('PutObject', key, () =>
        client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentLength: length, ContentType: 'application/octet-stream' }), { abortSignal: signal }),
      );
    },

    async remove(key: string): Promise<void> {
      await call('DeleteObject', key, () => client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key })));
    },

    /** Copies within the bucket, server-side; the target appears whole or not at all. */
    async copy(source: string, target: string, size: number): Promise<void> {
      if (size <= copyLimit) {
        await call('CopyObject', source, () =>
          client.send(new CopyObjectCommand({ Bucket: bucket, Key: target, CopySource: copySource(source) })),
        );
        return;
      }
      // Larger objects are copied as the parts of a multipart upload to the target.
      const partBytes = Math.max(Math.min(1024 ** 3, copyLimit), Math.ceil(size / 10_000));
      const uploadId = await createMultipart(target);
      try {
        const etags: string[] = [];
        for (let start = 0; start < size; start += partBytes) {
          etags.push(await copyPart(source, target, uploadId, etags.length + 1, { start, end: Math.min(size, start + partBytes) - 1 }));
        }
        await completeMultipart(target, uploadId, etags);
      } catch (err) {
        await abortMultipart(target, uploadId).catch(() => undefined);
        throw err;
      }
    },

    createMultipart,
    completeMultipart,
    abortMultipart,
    copyPart,

    /** Uploads one part of `length` bytes and returns its ETag; aborting `signal` cancels it. */
    async uploadPart(key: string, uploadId: string, partNumber: number, body: Readable | Buffer, length: number, signal?: AbortSignal): Promise<string> {
      const { ETag } = await call('UploadPart', key, () =>
        client.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumber: partNumber, Body: body, ContentLength: length }), { abortSignal: signal }),
      );
      if (!ETag) throw new BlobStoreUnavailableError('S3 UploadPart answered without an ETag');
      return ETag;
    },

    /** Every object under `prefix`. */
    list(prefix: string): AsyncGenerator<ListedObject> {
      return pages('ListObjectsV2', prefix, async (token) => {
        const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
        const items = (page.Contents ?? []).map((item) => ({ key: item.Key ?? '', size: item.Size ?? 0, lastModified: item.LastModified?.getTime() ?? 0 }));
        return { items, next: page.IsTruncated ? page.NextContinuationToken : undefined };
      });
    },

    /** The "folders" right below `prefix` (each ending in a slash). */
    folders(prefix: string): AsyncGenerator<string> {
      return pages('ListObjectsV2', prefix, async (token) => {
        const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, Delimiter: '/', ContinuationToken: token }));
        return { items: (page.CommonPrefixes ?? []).map((item) => item.Prefix ?? ''), next: page.IsTruncated ? page.NextContinuationToken : undefined };
      });
    },

    /** Multipart uploads in progress whose key starts with `prefix`. */
    multipartUploads(prefix: string): AsyncGenerator<{ key: string; uploadId: string }> {
      let keyMarker: string | undefined;
      return pages('ListMultipartUploads', prefix, async (uploadIdMarker) => {
        const page = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix, KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker }));
        keyMarker = page.NextKeyMarker;
        const items = (page.Uploads ?? []).map((upload) => ({ key: upload.Key ?? '', uploadId: upload.UploadId ?? '' }));
        return { items, next: page.IsTruncated ? (page.NextUploadIdMarker ?? '') : undefined };
      });
    },
  };
}

export type BucketObjects = ReturnType<typeof bucketObjects>;
