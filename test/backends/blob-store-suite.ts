// The behaviour every BlobStore promises (src/storage/blob-store.ts), run against each store
// the way distribution's storage driver suite runs against each of its drivers.
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { PassThrough, Readable, Writable } from 'node:stream';
import type { Test } from 'tap';
import {
  BlobMissingError,
  BlobTooLargeError,
  DigestMismatchError,
  UploadBusyError,
  UploadMissingError,
  type BlobStore,
  type UploadState,
} from '../../src/storage/blob-store.js';
import { repeatingBody } from '../helpers/bodies.js';

export interface StoreUnderTest {
  /**
   * A store over the storage under test. Each call is another instance over the same storage,
   * as another process (a replica) would have: it shares nothing with the others but what the
   * storage holds and the upload state it is handed.
   */
  open(): Promise<BlobStore>;
}

export interface SuiteOptions {
  /** The S3 part minimum (5 MiB), for chunk sizes that straddle it; any store must take them. */
  partBytes: number;
}

const mib = 1024 * 1024;

export function digestOf(bytes: Buffer, algorithm = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
}

/** A body as a client sends it: with a known length, or (like a chunked request) without. */
function bodyOf(bytes: Buffer, known: boolean): { stream: Readable; length?: number } {
  // Several chunks, as a socket delivers them.
  const chunks: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += 256 * 1024) chunks.push(bytes.subarray(at, at + 256 * 1024));
  return known ? { stream: Readable.from(chunks), length: bytes.length } : { stream: Readable.from(chunks) };
}

/** A body that sends `bytes` and then breaks off, as a client that goes away. */
function breakingBody(bytes: Buffer): Readable {
  let sent = false;
  return new Readable({
    read() {
      if (sent) return this.destroy(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
      sent = true;
      this.push(bytes);
    },
  });
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

interface Upload {
  id: string;
  size: number;
  state: UploadState;
}

/** Appends `bytes` cut at `cuts`, each chunk through the next of `stores` in turn, with a known length every other chunk. */
async function appendChunks(stores: BlobStore[], upload: Upload, bytes: Buffer, cuts: number[]): Promise<Upload> {
  let current = upload;
  const ends = [...cuts, bytes.length];
  for (const [i, end] of ends.entries()) {
    const store = stores[i % stores.length] as BlobStore;
    const body = bodyOf(bytes.subarray(current.size, end), i % 2 === 0);
    const result = await store.append(current.id, body.stream, current.size, { state: current.state, length: body.length });
    current = { id: current.id, size: result.size, state: result.state };
  }
  return current;
}

/** Stores `bytes` as a blob (uploaded in chunks cut at `cuts`) and returns its digest. */
export async function stored(store: BlobStore, bytes: Buffer, cuts: number[] = []): Promise<string> {
  const upload = await appendChunks([store], { id: await store.startUpload(), size: 0, state: undefined }, bytes, cuts);
  const digest = digestOf(bytes);
  await store.commit(upload.id, digest, upload.size, upload.state);
  await store.abort(upload.id, upload.state);
  return digest;
}

async function listed(store: BlobStore): Promise<Map<string, { size: number; changedAt: number }>> {
  const blobs = new Map<string, { size: number; changedAt: number }>();
  for await (const blob of store.list()) blobs.set(blob.digest, { size: blob.size, changedAt: blob.changedAt });
  return blobs;
}

function kib(field: 'VmRSS' | 'VmHWM'): number {
  return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync('/proc/self/status', 'utf8'))?.[1]);
}

export function blobStoreSuite(t: Test, setup: (t: Test) => Promise<StoreUnderTest>, options: SuiteOptions): void {
  const part = options.partBytes;

  t.test('a committed blob: stat, open and read, whole and in ranges', async (t) => {
    const store = await (await setup(t)).open();
    const bytes = randomBytes(2 * part + 123);
    const digest = await stored(store, bytes, [part + 7]);
    t.same(await store.stat(digest), { size: bytes.length });
    t.ok(await store.has(digest));
    t.ok((await readAll(await store.open(digest))).equals(bytes), 'open gives every byte');
    for (const range of [{ start: 0, end: 0 }, { start: part - 10, end: part + 10 }, { start: bytes.length - 5, end: bytes.length - 1 }]) {
      const expected = bytes.subarray(range.start, range.end + 1);
      t.ok((await readAll(await store.open(digest, range))).equals(expected), `open ${range.start}-${range.end}`);
      const content = await store.read(digest, range);
      t.equal(content.length, expected.length);
      t.ok((await content.bytes()).equals(expected), `read ${range.start}-${range.end} as bytes`);
      await content.close();
    }
    const content = await store.read(digest);
    // Copies what it is given, as a socket does: a store may reuse a chunk once its write is done.
    const received: Buffer[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        received.push(Buffer.from(chunk));
        done();
      },
    });
    await content.writeTo(sink);
    await content.close();
    t.ok(Buffer.concat(received).equals(bytes), 'read writes every byte into a destination');
    t.notOk(sink.writableEnded, 'and leaves the destination open');
  });

  t.test('a blob that is not there', async (t) => {
    const store = await (await setup(t)).open();
    const digest = digestOf(Buffer.from('never stored'));
    t.equal(await store.stat(digest), undefined);
    t.equal(await store.has(digest), false);
    await t.rejects(store.open(digest), BlobMissingError);
    await t.rejects(store.read(digest), BlobMissingError);
    await t.rejects(store.read(digest, { start: 0, end: 1 }), BlobMissingError);
  });

  t.test('a monolithic upload, with and without a known length', async (t) => {
    const store = await (await setup(t)).open();
    for (const known of [true, false]) {
      for (const size of [1, 1000, part, part + 1, 2 * part + 3]) {
        const bytes = randomBytes(size);
        const id = await store.startUpload();
        const body = bodyOf(bytes, known);
        const { size: written, state } = await store.append(id, body.stream, 0, { length: body.length });
        t.equal(written, size);
        t.same(await store.commit(id, digestOf(bytes), size, state), { size });
        await store.abort(id, state);
        t.ok((await readAll(await store.open(digestOf(bytes)))).equals(bytes), `${size} bytes, length ${known ? 'known' : 'unknown'}`);
      }
    }
  });

  t.test('a chunked upload carried on by another instance at every chunk, chunks straddling the part size', async (t) => {
    const storage = await setup(t);
    const stores = [await storage.open(), await storage.open()];
    const bytes = randomBytes(5 * part + 12345);
    // Small chunks, a chunk ending one byte short of a part, one crossing two parts, exactly a part, a tiny last one.
    const cuts = [1, 1000, part - 1, part + 1, 3 * part + 5, 4 * part + 5, 5 * part + 12000];
    const upload = await appendChunks(stores, { id: await (stores[0] as BlobStore).startUpload(), size: 0, state: undefined }, bytes, cuts);
    t.equal(upload.size, bytes.length);
    const other = stores[1] as BlobStore;
    t.same(await other.uploadDigest(upload.id, upload.state), { digest: digestOf(bytes), size: bytes.length });
    await other.commit(upload.id, digestOf(bytes), upload.size, upload.state);
    await other.abort(upload.id, upload.state);
    t.ok((await readAll(await (stores[0] as BlobStore).open(digestOf(bytes)))).equals(bytes), 'the blob is the chunks in order');
  });

  t.test('an empty blob, and empty chunks', async (t) => {
    const store = await (await setup(t)).open();
    const empty = Buffer.alloc(0);
    const id = await store.startUpload();
    t.same(await store.uploadDigest(id, undefined), { digest: digestOf(empty), size: 0 });
    t.same(await store.commit(id, digestOf(empty), 0, undefined), { size: 0 });
    t.same(await store.stat(digestOf(empty)), { size: 0 });
    t.equal((await readAll(await store.open(digestOf(empty)))).length, 0);
    const content = await store.read(digestOf(empty));
    t.equal(content.length, 0);
    await content.close();

    const bytes = randomBytes(3000);
    const chunked = await store.startUpload();
    let upload: Upload = { id: chunked, size: 0, state: undefined };
    for (const chunk of [empty, bytes.subarray(0, 1000), empty, bytes.subarray(1000)]) {
      const result = await store.append(chunked, Readable.from([chunk]), upload.size, { state: upload.state, length: chunk.length });
      upload = { id: chunked, size: result.size, state: result.state };
    }
    t.equal(upload.size, bytes.length, 'empty chunks add nothing');
    t.same(await store.commit(chunked, digestOf(bytes), upload.size, upload.state), { size: bytes.length });
  });

  t.test('a failed append leaves the upload as it was', async (t) => {
    const storage = await setup(t);
    const store = await storage.open();
    const bytes = randomBytes(3 * part + 99);
    const id = await store.startUpload();
    let upload = await appendChunks([store], { id, size: 0, state: undefined }, bytes.subarray(0, part - 100), []);
    for (const known of [true, false]) {
      // The client goes away after sending more than a part's worth.
      const rest = bytes.subarray(upload.size);
      const failing = store.append(id, breakingBody(rest.subarray(0, part + 200)), upload.size, { state: upload.state, length: known ? rest.length : undefined });
      await t.rejects(failing, `a body that breaks off fails the append (length ${known ? 'known' : 'unknown'})`);
    }
    // Carried on, by another instance, from the state before the failures.
    upload = await appendChunks([await storage.open()], upload, bytes, [2 * part]);
    await store.commit(id, digestOf(bytes), upload.size, upload.state);
    t.ok((await readAll(await store.open(digestOf(bytes)))).equals(bytes), 'the blob has none of the failed bytes');
  });

  t.test('an append over the size limit fails and leaves the upload as it was', async (t) => {
    const store = await (await setup(t)).open();
    const bytes = randomBytes(part + 10);
    const id = await store.startUpload();
    const first = await store.append(id, Readable.from([bytes.subarray(0, 10)]), 0, { maxSize: part });
    for (const length of [part, undefined]) {
      await t.rejects(store.append(id, Readable.from([bytes.subarray(10)]), 10, { maxSize: part, state: first.state, length }), BlobTooLargeError);
    }
    const second = await store.append(id, Readable.from([bytes.subarray(10)]), 10, { maxSize: part + 10, state: first.state });
    t.equal(second.size, bytes.length);
    await store.commit(id, digestOf(bytes), second.size, second.state);
    t.ok((await readAll(await store.open(digestOf(bytes)))).equals(bytes));
  });

  t.test('one writer at a time per upload in a process', async (t) => {
    const store = await (await setup(t)).open();
    const id = await store.startUpload();
    const slow = new PassThrough();
    const writing = store.append(id, slow, 0);
    slow.write(randomBytes(1000));
    await t.rejects(store.append(id, Readable.from([Buffer.from('x')]), 0), UploadBusyError);
    slow.end(randomBytes(24));
    t.equal((await writing).size, 1024, 'the first writer carries on');
  });

  t.test('a digest that does not match is refused and stores nothing', async (t) => {
    const store = await (await setup(t)).open();
    for (const size of [100, part + 100]) {
      const bytes = randomBytes(size);
      const id = await store.startUpload();
      const { state } = await store.append(id, Readable.from([bytes]), 0, { length: size });
      const wrong = digestOf(Buffer.from('something else'));
      await t.rejects(store.commit(id, wrong, size, state), DigestMismatchError);
      t.equal(await store.stat(wrong), undefined, `nothing stored under the wrong digest (${size} bytes)`);
      const wrong512 = digestOf(Buffer.from('something else'), 'sha512');
      await t.rejects(store.commit(id, wrong512, size, state), DigestMismatchError);
      t.equal(await store.stat(wrong512), undefined);
      await store.abort(id, state);
    }
  });

  t.test('sha512 digests', async (t) => {
    const store = await (await setup(t)).open();
    for (const size of [100, part + 100]) {
      const bytes = randomBytes(size);
      const id = await store.startUpload();
      const { state } = await store.append(id, Readable.from([bytes]), 0);
      const digest = digestOf(bytes, 'sha512');
      t.same(await store.commit(id, digest, size, state), { size });
      await store.abort(id, state);
      t.ok((await readAll(await store.open(digest))).equals(bytes), `${size} bytes under ${digest.slice(0, 15)}…`);
      t.ok((await listed(store)).has(digest), 'and listed');
    }
  });

  t.test('a commit can be repeated until the upload is aborted, also after the blob was removed', async (t) => {
    const store = await (await setup(t)).open();
    for (const size of [1000, 2 * part + 1]) {
      const bytes = randomBytes(size);
      const digest = digestOf(bytes);
      const id = await store.startUpload();
      const upload = await appendChunks([store], { id, size: 0, state: undefined }, bytes, [size - 500]);
      t.same(await store.commit(id, digest, upload.size, upload.state), { size });
      t.same(await store.commit(id, digest, upload.size, upload.state), { size }, 'committed again');
      await store.remove(digest);
      t.equal(await store.has(digest), false);
      t.same(await store.commit(id, digest, upload.size, upload.state), { size }, 'committed again after garbage collection removed the blob');
      t.ok((await readAll(await store.open(digest))).equals(bytes), 'with the same bytes');
      await t.rejects(store.commit(id, digest, upload.size + 1, upload.state), UploadMissingError, 'more bytes than the upload holds');
      await store.abort(id, upload.state);
      await store.remove(digest);
      await t.rejects(store.commit(id, digest, upload.size, upload.state), UploadMissingError, 'an aborted upload has nothing to commit');
    }
  });

  t.test('a commit of a blob that is stored already leaves it as it is', async (t) => {
    const store = await (await setup(t)).open();
    const bytes = randomBytes(part + 1);
    const digest = await stored(store, bytes);
    const before = (await listed(store)).get(digest);
    // S3 keeps modification times to the second.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const id = await store.startUpload();
    const { state } = await store.append(id, Readable.from([bytes]), 0);
    t.same(await store.commit(id, digest, bytes.length, state), { size: bytes.length });
    t.same((await listed(store)).get(digest), before, 'not written again');
  });

  t.test('an upload read back before it is committed', async (t) => {
    const storage = await setup(t);
    const store = await storage.open();
    for (const size of [1000, part + 1000]) {
      const bytes = randomBytes(size);
      const id = await store.startUpload();
      const upload = await appendChunks([store], { id, size: 0, state: undefined }, bytes, [size - 10]);
      const other = await storage.open();
      t.same(await other.uploadDigest(id, upload.state), { digest: digestOf(bytes), size });
      t.ok((await readAll(await other.openUpload(id, upload.state))).equals(bytes), `${size} bytes read back`);
      t.same(await store.commit(id, digestOf(bytes), size, upload.state), { size }, 'and committed after');
      t.ok((await readAll(await store.open(digestOf(bytes)))).equals(bytes));
    }
    const fresh = await store.startUpload();
    t.equal((await readAll(await store.openUpload(fresh, undefined))).length, 0, 'an upload without bytes reads as empty');
  });

  t.test('has and remove', async (t) => {
    const store = await (await setup(t)).open();
    const digest = await stored(store, randomBytes(500));
    t.equal(await store.has(digest), true);
    await store.remove(digest);
    t.equal(await store.has(digest), false);
    t.equal(await store.stat(digest), undefined);
    await store.remove(digest);
    t.pass('removing a blob that is not there is no error');
  });

  t.test('list names every blob with its size and when it was put in place', async (t) => {
    const store = await (await setup(t)).open();
    const before = Date.now();
    const small = randomBytes(10);
    const large = randomBytes(part + 10);
    const digests = [await stored(store, small), await stored(store, large)];
    const after = Date.now();
    const blobs = await listed(store);
    t.same([...blobs.keys()].sort(), [...digests].sort(), 'every blob, nothing else (no uploads)');
    t.equal(blobs.get(digests[0] as string)?.size, small.length);
    t.equal(blobs.get(digests[1] as string)?.size, large.length);
    for (const blob of blobs.values()) {
      // Whole seconds on S3; the clocks are the same machine's.
      t.ok(blob.changedAt >= before - 2000 && blob.changedAt <= after + 2000, `changedAt ${new Date(blob.changedAt).toISOString()}`);
    }
  });

  t.test('listUploads names uploads that hold bytes; abort removes them, with or without their state', async (t) => {
    const storage = await setup(t);
    const store = await storage.open();
    const empty = await store.startUpload();
    const small = await store.startUpload();
    const smallState = (await store.append(small, Readable.from([randomBytes(10)]), 0)).state;
    const whole = await store.startUpload();
    // Exactly one part: nothing but the multipart upload on S3.
    await store.append(whole, Readable.from([randomBytes(part)]), 0, { length: part });
    const messy = await store.startUpload();
    const first = await store.append(messy, Readable.from([randomBytes(part + 10)]), 0);
    await t.rejects(store.append(messy, breakingBody(randomBytes(part + 20)), first.size, { state: first.state, length: 2 * part }));
    await store.append(messy, Readable.from([randomBytes(20)]), first.size, { state: first.state });

    const ids = await (await storage.open()).listUploads();
    t.same([...ids].sort(), [small, whole, messy].sort(), 'the uploads with bytes, not the one without');
    t.notOk(ids.includes(empty));

    const other = await storage.open();
    await other.abort(small, smallState);
    await other.abort(whole);
    await other.abort(messy);
    await other.abort(empty);
    t.same(await store.listUploads(), [], 'nothing left of any of them');
  });

  t.test('checkWritable', async (t) => {
    const store = await (await setup(t)).open();
    await store.checkWritable();
    t.same(await store.listUploads(), [], 'leaves no upload behind');
    t.same([...(await listed(store)).keys()], [], 'and no blob');
  });

  t.test('a large upload streams through in bounded memory', async (t) => {
    const store = await (await setup(t)).open();
    const total = 256 * mib;
    const chunk = 8 * mib;
    const block = randomBytes(64 * 1024);
    // Reset the peak so that this test measures its own.
    writeFileSync('/proc/self/clear_refs', '5');
    const before = kib('VmRSS');
    const hash = createHash('sha256');
    const id = await store.startUpload();
    let upload: Upload = { id, size: 0, state: undefined };
    for (let offset = 0; offset < total; offset += chunk) {
      // Half the chunks with a known length (streamed through), half without (cut into parts in memory).
      const known = offset < total / 2;
      const result = await store.append(id, repeatingBody(chunk, block, hash), offset, { state: upload.state, length: known ? chunk : undefined });
      upload = { id, size: result.size, state: result.state };
    }
    const digest = `sha256:${hash.digest('hex')}`;
    await store.commit(id, digest, total, upload.state);
    await store.abort(id, upload.state);
    const growthMiB = (kib('VmHWM') - before) / 1024;
    t.same(await store.stat(digest), { size: total });
    // Garbage collection lets some tens of MiB of used chunks pile up (see test/e2e/large-blob.test.ts);
    // a store that held on to the blob grows past this.
    t.ok(growthMiB < 96, `peak RSS grew by ${growthMiB.toFixed(1)} MiB for a ${total / mib} MiB upload (limit 96)`);
    const check = createHash('sha256');
    for await (const bytes of (await store.open(digest)) as AsyncIterable<Buffer>) check.update(bytes);
    t.equal(`sha256:${check.digest('hex')}`, digest, 'and reads back whole');
  });
}
