import { randomBytes } from 'node:crypto';
import t from 'tap';
import { createS3BlobStore } from '../../src/storage/s3/s3-blob-store.js';
import { blobStoreSuite } from './blob-store-suite.js';
import { quietLog, testBucket } from './s3.js';

const partBytes = 5 * 1024 * 1024;
const target = await testBucket(t);
if (target) {
  blobStoreSuite(
    t,
    async () => {
      // Each test in its own prefix of the file's bucket: a store sees nothing of the others.
      const prefix = `suite-${randomBytes(4).toString('hex')}/`;
      return { open: async () => createS3BlobStore({ client: target.client, bucket: target.bucket, prefix, partSize: partBytes, log: quietLog }) };
    },
    { partBytes },
  );
}
