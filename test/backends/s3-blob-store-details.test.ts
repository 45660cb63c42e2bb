// What the S3 store does beyond the shared suite: presigned downloads, its key layout, S3
// failures as errors without secrets, protection against stray writers, large copies.
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import t from 'tap';
import { BlobStoreUnavailableError, UploadMissingError, type BlobStore } from '../../src/storage/blob-store.js';
import { createS3Client } from '../../src/storage/s3/client.js';
import { bucketObjects } from '../../src/storage/s3/objects.js';
import { createS3BlobStore, type S3BlobStoreOptions } from '../../src/storage/s3/s3-blob-store.js';
import { digestOf, stored } from './blob-store-suite.js';
import { quietLog, testBucket } from './s3.js';

const part = 5 * 1024 * 1024;
const target = await testBucket(t);

if (target) {
  const { client, bucket, config } = target;
  const storeWith = (options: Partial<S3BlobStoreOptions> = {}): BlobStore =>
    createS3BlobStore({ client, bucket, prefix: `details-${randomBytes(4).toString('hex')}`, partSize: part, log: quietLog, ...options });

  t.test('redirect: a presigned URL serves the blob, ranges too, and only as signed', async (t) => {
    const store = storeWith({ redirect: { client, seconds: 60 } });
    const bytes = randomBytes(part + 100);
    const digest = await stored(store, bytes);
    t.ok(store.downloadUrl, 'the store hands out download URLs');
    const url = await (store.downloadUrl as (digest: string) => Promise<string>)(digest);
    t.ok(url.startsWith(`${config.endpoint}/${bucket}/`), 'on the configured endpoint, path style');
    t.notOk(url.includes(config.secretAccessKey), 'without the secret');

    const whole = await fetch(url);
    t.equal(whole.status, 200);
    t.ok(Buffer.from(await whole.arrayBuffer()).equals(bytes), 'every byte');
    const ranged = await fetch(url, { headers: { range: `bytes=${part - 5}-${part + 4}` } });
    t.equal(ranged.status, 206);
    t.ok(Buffer.from(await ranged.arrayBuffer()).equals(bytes.subarray(part - 5, part + 5)), 'a range across a part boundary');
    const tampered = await fetch(url.replace(/X-Amz-Signature=[0-9a-f]+/, `X-Amz-Signature=${'0'.repeat(64)}`));
    t.equal(tampered.status, 403, 'a URL with another signature is refused');
    await tampered.arrayBuffer();

    t.equal(storeWith().downloadUrl, undefined, 'without the option, no download URLs');
  });

  t.test('everything lives under the prefix, blobs in the layout the disk store uses', async (t) => {
    const prefix = `layout-${randomBytes(4).toString('hex')}`;
    const store = createS3BlobStore({ client, bucket, prefix: `/${prefix}/`, partSize: part, log: quietLog });
    const digest = await stored(store, randomBytes(100));
    const id = await store.startUpload();
    await store.append(id, Readable.from([randomBytes(10)]), 0);
    const keys: string[] = [];
    for await (const { key } of bucketObjects(client, bucket).list(`${prefix}/`)) keys.push(key);
    const hex = digest.slice('sha256:'.length);
    t.ok(keys.includes(`${prefix}/blobs/sha256/${hex.slice(0, 2)}/${hex}`), 'the blob');
    t.ok(keys.some((key) => key.startsWith(`${prefix}/uploads/${id}/tail-`)), "the upload's tail");
    t.equal(keys.length, 2, 'and nothing else');
  });

  t.test('an unreachable store fails as unavailable, naming no secret', async (t) => {
    const unreachable = createS3Client({ ...config, endpoint: 'http://127.0.0.1:9' }, quietLog);
    t.teardown(() => unreachable.destroy());
    const store = createS3BlobStore({ client: unreachable, bucket, prefix: 'x', partSize: part, log: quietLog });
    for (const [what, attempt] of [
      ['stat', () => store.stat(digestOf(Buffer.from('a')))],
      ['checkWritable', () => store.checkWritable()],
      ['append', async () => store.append(await store.startUpload(), Readable.from([Buffer.from('abc')]), 0, { length: 3 })],
    ] as const) {
      const err = await (attempt as () => Promise<unknown>)().then(
        () => undefined,
        (failure: unknown) => failure,
      );
      t.ok(err instanceof BlobStoreUnavailableError, `${what}: BlobStoreUnavailableError`);
      t.match((err as Error).message, /^S3 \w+ failed: ECONNREFUSED/, `${what}: says which call failed and why`);
      t.notOk(JSON.stringify({ ...(err as object), message: (err as Error).message }).includes(config.secretAccessKey), `${what}: no secret in it`);
    }
  });

  t.test('wrong credentials fail as unavailable, naming no secret', async (t) => {
    const wrong = createS3Client({ ...config, secretAccessKey: 'not-the-secret-at-all-0123456789' }, quietLog);
    t.teardown(() => wrong.destroy());
    const store = createS3BlobStore({ client: wrong, bucket, prefix: 'x', partSize: part, log: quietLog });
    const err = await store.checkWritable().then(
      () => undefined,
      (failure: unknown) => failure,
    );
    t.ok(err instanceof BlobStoreUnavailableError);
    t.match((err as Error).message, /SignatureDoesNotMatch.*HTTP 403/);
    t.notOk((err as Error).message.includes('not-the-secret'));
  });

  t.test('a part written over by a stray writer fails the commit instead of storing other bytes', async (t) => {
    const store = storeWith();
    // A multipart upload under way: one part and a tail.
    const head = randomBytes(part + 100);
    const id = await store.startUpload();
    const start = await store.append(id, Readable.from([head]), 0);
    // Two writers carry on from the same state (a chunk sent twice at once, to two replicas): both write part 2.
    const ours = randomBytes(part);
    const theirs = randomBytes(part);
    const mine = await store.append(id, Readable.from([ours]), head.length, { state: start.state, length: part });
    const other = await store.append(id, Readable.from([theirs]), head.length, { state: start.state, length: part });
    const ourDigest = digestOf(Buffer.concat([head, ours]));
    await t.rejects(store.commit(id, ourDigest, mine.size, mine.state), UploadMissingError, 'the part our state names is gone');
    t.equal(await store.stat(ourDigest), undefined, 'nothing is stored under our digest');
    const expected = Buffer.concat([head, theirs]);
    t.same(await store.commit(id, digestOf(expected), other.size, other.state), { size: expected.length }, "the last writer's state still commits");
    const chunks: Buffer[] = [];
    for await (const chunk of (await store.open(digestOf(expected))) as AsyncIterable<Buffer>) chunks.push(chunk);
    t.ok(Buffer.concat(chunks).equals(expected), 'with its bytes');
  });

  t.test('a blob above the single-copy bound is copied part by part', async (t) => {
    const store = storeWith({ maxSingleCopyBytes: 6 * 1024 * 1024 });
    const bytes = randomBytes(13 * 1024 * 1024 + 5);
    const digest = await stored(store, bytes);
    const chunks: Buffer[] = [];
    for await (const chunk of (await store.open(digest)) as AsyncIterable<Buffer>) chunks.push(chunk);
    t.ok(Buffer.concat(chunks).equals(bytes));
  });

  t.test('an upload keeps the part size it started with when an instance with another setting carries it on', async (t) => {
    const prefix = `parts-${randomBytes(4).toString('hex')}`;
    const small = createS3BlobStore({ client, bucket, prefix, partSize: part, log: quietLog });
    const large = createS3BlobStore({ client, bucket, prefix, partSize: part + 1024 * 1024, log: quietLog });
    const bytes = randomBytes(3 * part);
    const id = await small.startUpload();
    const first = await small.append(id, Readable.from([bytes.subarray(0, part + 10)]), 0);
    const second = await large.append(id, Readable.from([bytes.subarray(part + 10)]), part + 10, { state: first.state });
    await large.commit(id, digestOf(bytes), second.size, second.state);
    const chunks: Buffer[] = [];
    for await (const chunk of (await large.open(digestOf(bytes))) as AsyncIterable<Buffer>) chunks.push(chunk);
    t.ok(Buffer.concat(chunks).equals(bytes));
  });

  t.test('a state that is not one of ours is an upload the store does not have', async (t) => {
    const store = storeWith();
    const id = await store.startUpload();
    await t.rejects(store.append(id, Readable.from([Buffer.from('x')]), 5, { state: 'garbage' }), UploadMissingError);
    await t.rejects(store.append(id, Readable.from([Buffer.from('x')]), 5), UploadMissingError, 'nor bytes without a state');
    await t.rejects(store.uploadDigest(id, '{"v":1}'), UploadMissingError);
  });
}
