import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import type { BlobContent } from '../../src/storage/blob-store.js';
import { createDiskBlobStore } from '../../src/storage/disk-blob-store.js';
import { withSmallBlobCache } from '../../src/storage/small-blob-cache.js';
import { tempDir } from '../helpers/tmp.js';
import { blobStoreSuite, stored } from './blob-store-suite.js';

// The cache wraps the S3 store; over the disk store its files can be taken away behind its back.
blobStoreSuite(
  t,
  async (t) => {
    const root = tempDir(t, 'cached-store');
    return { open: async () => withSmallBlobCache(await createDiskBlobStore(root)) };
  },
  { partBytes: 5 * 1024 * 1024 },
);

const fileOf = (root: string, digest: string): string => {
  const hex = digest.slice('sha256:'.length);
  return join(root, 'blobs', 'sha256', hex.slice(0, 2), hex);
};

async function text(content: BlobContent): Promise<string> {
  try {
    return (await content.bytes()).toString();
  } finally {
    await content.close();
  }
}

t.test('small blobs read whole are served from memory until removed; ranges and large blobs are not kept', async (t) => {
  const root = tempDir(t, 'small-blob-cache');
  const disk = await createDiskBlobStore(root);
  const store = withSmallBlobCache(disk, { blobBytes: 16, totalBytes: 40 });
  const small = await stored(store, Buffer.from('0123456789'));
  const large = await stored(store, randomBytes(17));

  t.equal(await text(await store.read(small, { start: 2, end: 4 })), '234', 'a range of a blob not kept');
  t.equal(await text(await store.read(small)), '0123456789');
  rmSync(fileOf(root, small));
  t.equal(await text(await store.read(small)), '0123456789', 'kept: read again without the store');
  t.equal(await text(await store.read(small, { start: 8, end: 9 })), '89', 'a range of a kept blob');

  t.equal((await store.read(large)).length, 17);
  rmSync(fileOf(root, large));
  await t.rejects(store.read(large), { name: 'BlobMissingError' }, 'a blob over the size bound is not kept');

  await store.remove(small);
  await t.rejects(store.read(small), { name: 'BlobMissingError' }, 'removal forgets the kept copy');

  const [a, b, c] = await Promise.all(['a'.repeat(15), 'b'.repeat(15), 'c'.repeat(15)].map((s) => stored(store, Buffer.from(s))));
  for (const digest of [a, b, c] as string[]) await text(await store.read(digest));
  for (const digest of [a, b, c] as string[]) rmSync(fileOf(root, digest));
  await t.rejects(store.read(a as string), { name: 'BlobMissingError' }, 'the least recently read goes when the total is over its bound');
  t.equal(await text(await store.read(c as string)), 'c'.repeat(15), 'the most recent stays');
});
