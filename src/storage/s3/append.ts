import { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { BlobTooLargeError, UploadMissingError, type AppendOptions, type UploadState } from '../blob-store.js';
import { readBody, type BodyReader } from './body-reader.js';
import type { KeyLayout } from './keys.js';
import { ObjectMissingError, type BucketObjects } from './objects.js';
import { decodeUpload, encodeUpload, freshUpload, resumeHash, saveHash, tailBytes, type S3Upload } from './upload-state.js';

/** S3 allows 10,000 parts; the last one is kept for the tail, which becomes a part at commit. */
export const maxParts = 10_000;

export interface AppendContext {
  objects: BucketObjects;
  keys: KeyLayout;
  partSize: number;
  log: Logger;
}

/** Bytes of the upload not in a part yet, carried in front of the body's next bytes. */
interface Carried {
  name: string;
  length: number;
}

/** The body's bytes for one piece: a stream when the length is known, else already in memory. */
type Portion = { length: number; stream: () => Readable } | { length: number; chunks: Buffer[] };

/**
 * Appends a body to an S3 upload: whole parts go to the multipart upload, what is left over
 * (fewer than a part's bytes) to a new tail object. The tail before it is read back from S3 and
 * streamed in front of the body's bytes, so memory holds at most one part, and only for bodies of
 * unknown length: with a Content-Length every piece streams from the client into S3.
 *
 * Nothing the state before this call names is changed (parts get new numbers, tails new names),
 * so a failure anywhere leaves the upload as it was, and a caller that fails to record the new
 * state still has a good old one.
 */
export async function appendToUpload(ctx: AppendContext, id: string, body: Readable, offset: number, options: AppendOptions = {}): Promise<{ size: number; state: UploadState }> {
  const { objects, keys } = ctx;
  const upload = await uploadAt(ctx, id, offset, options.state);
  const limit = Math.min(options.maxSize !== undefined && options.maxSize > 0 ? options.maxSize : Infinity, upload.partSize * maxParts - 1);
  if (options.length !== undefined && offset + options.length > limit) throw new BlobTooLargeError(limit);

  const hasher = await resumeHash(id, upload);
  let size = offset;
  const reader = readBody(body, (chunk) => {
    size += chunk.length;
    if (size > limit) throw new BlobTooLargeError(limit);
    hasher.update(chunk);
  });
  const next: S3Upload = { ...upload, parts: [...upload.parts], replaced: undefined };
  let carried: Carried | undefined = upload.tail === undefined ? undefined : { name: upload.tail, length: tailBytes(upload) };
  let unread = options.length;

  for (;;) {
    const room = upload.partSize - (carried?.length ?? 0);
    const portion = await portionOf(reader, room, unread);
    if (unread !== undefined) unread -= portion.length;
    if (portion.length === room) {
      next.multipart ??= await startMultipart(ctx, id);
      const partNumber = next.parts.length + 1;
      const key = keys.uploadObject(id, next.multipart.name);
      const { uploadId } = next.multipart;
      next.parts.push(await sendPiece(ctx, id, carried, portion, (stream, signal) => objects.uploadPart(key, uploadId, partNumber, stream, upload.partSize, signal)));
      carried = undefined;
      continue;
    }
    if (portion.length > 0) {
      const name = keys.freshName('tail');
      const length = (carried?.length ?? 0) + portion.length;
      await sendPiece(ctx, id, carried, portion, (stream, signal) => objects.put(keys.uploadObject(id, name), stream, length, signal));
      carried = { name, length };
    }
    break;
  }
  // A body longer than it said it was is as broken as a shorter one.
  if (options.length !== undefined && (await reader.collect(1)).length > 0) throw new Error('the body is longer than its declared length');

  next.size = size;
  next.hash = saveHash(hasher);
  next.tail = carried?.name;
  if (next.tail !== upload.tail) next.replaced = upload.tail;
  if (upload.replaced !== undefined) await dropReplaced(ctx, id, upload.replaced);
  return { size, state: encodeUpload(next) };
}

async function uploadAt(ctx: AppendContext, id: string, offset: number, state: UploadState): Promise<S3Upload> {
  if (state === undefined) {
    // Without a state there are no bytes: only a fresh upload can be appended to.
    if (offset !== 0) throw new UploadMissingError(id);
    return freshUpload(ctx.partSize);
  }
  const upload = decodeUpload(id, state);
  if (upload.size !== offset) throw new UploadMissingError(id);
  return upload;
}

async function portionOf(reader: BodyReader, room: number, unread: number | undefined): Promise<Portion> {
  if (unread === undefined) return reader.collect(room);
  const length = Math.min(room, unread);
  return { length, stream: () => reader.slice(length) };
}

async function startMultipart(ctx: AppendContext, id: string): Promise<{ name: string; uploadId: string }> {
  const name = ctx.keys.freshName('data');
  return { name, uploadId: await ctx.objects.createMultipart(ctx.keys.uploadObject(id, name)) };
}

/**
 * Sends the carried tail (read back from S3) followed by the body's portion as one request. When
 * the body fails, the request is aborted and the body's error is the one reported: the client
 * went away, S3 did nothing wrong.
 */
async function sendPiece<T>(
  ctx: AppendContext,
  id: string,
  carried: Carried | undefined,
  portion: Portion,
  send: (stream: Readable, signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const { objects, keys } = ctx;
  async function* piece(): AsyncGenerator<Buffer> {
    if (carried) {
      const tail = await objects.get(keys.uploadObject(id, carried.name)).catch((err: unknown) => {
        throw err instanceof ObjectMissingError ? new UploadMissingError(id) : err;
      });
      try {
        if (tail.length !== carried.length) throw new UploadMissingError(id);
        yield* tail.body as AsyncIterable<Buffer>;
      } finally {
        tail.body.destroy();
      }
    }
    if ('chunks' in portion) yield* portion.chunks;
    else yield* portion.stream() as AsyncIterable<Buffer>;
  }
  const stream = Readable.from(piece(), { objectMode: false, highWaterMark: 64 * 1024 });
  const controller = new AbortController();
  let failure: unknown;
  stream.once('error', (err) => {
    failure = err;
    controller.abort();
  });
  try {
    return await send(stream, controller.signal);
  } catch (err) {
    throw failure ?? err;
  } finally {
    stream.destroy();
  }
}

/** Best effort: a tail left behind is removed with its upload anyway. */
async function dropReplaced(ctx: AppendContext, id: string, name: string): Promise<void> {
  await ctx.objects.remove(ctx.keys.uploadObject(id, name)).catch((err: unknown) => ctx.log.warn({ err, upload: id }, 'could not remove a replaced upload tail'));
}
