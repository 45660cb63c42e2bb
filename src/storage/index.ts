import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import type { BlobStore } from './blob-store.js';
import { createDiskBlobStore } from './disk-blob-store.js';
import { withSmallBlobCache } from './small-blob-cache.js';

/** The blob store the config names: the data directory's, or an S3 bucket's. */
export async function createBlobStore(config: Config, log: Logger): Promise<BlobStore> {
  const { driver, s3 } = config.storage;
  if (driver === 'disk') return createDiskBlobStore(config.data);
  // Loaded only for S3: the AWS SDK adds some 400 ms to every start (and every CLI command).
  const [{ createS3Client }, { createS3BlobStore }] = await Promise.all([import('./s3/client.js'), import('./s3/s3-blob-store.js')]);
  const storeLog = log.child({ component: 's3' });
  const client = createS3Client(s3, storeLog);
  const signer = s3.publicEndpoint === '' || s3.publicEndpoint === s3.endpoint ? client : createS3Client(s3, storeLog, s3.publicEndpoint);
  return withSmallBlobCache(createS3BlobStore({
    client,
    bucket: s3.bucket,
    prefix: s3.prefix,
    partSize: s3.partSizeBytes,
    log: storeLog,
    redirect: s3.redirect ? { client: signer, seconds: s3.redirectSeconds } : undefined,
  }));
}
