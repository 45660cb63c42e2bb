import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, DeleteBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { pino } from 'pino';
import type { Test } from 'tap';
import { loadConfig } from '../../src/config/index.js';
import type { S3StorageConfig } from '../../src/config/schema.js';
import { createS3Client } from '../../src/storage/s3/client.js';
import { bucketObjects } from '../../src/storage/s3/objects.js';

export interface TestBucket {
  /** Settings for the test endpoint and this bucket. */
  config: S3StorageConfig;
  client: S3Client;
  bucket: string;
}

export const quietLog = pino({ level: process.env.CHARTROOM_TEST_LOG ?? 'silent' });

/**
 * The S3 endpoint the backend tests run against (CHARTROOM_TEST_S3_ENDPOINT, _ACCESS_KEY,
 * _SECRET_KEY; scripts/start-s3.sh starts one). Without it the file is skipped, unless
 * CHARTROOM_TEST_REQUIRE_BACKENDS=1 (CI) makes that a failure.
 */
export function s3Settings(t: Test): S3StorageConfig | undefined {
  const { CHARTROOM_TEST_S3_ENDPOINT: endpoint, CHARTROOM_TEST_S3_ACCESS_KEY: accessKeyId, CHARTROOM_TEST_S3_SECRET_KEY: secretAccessKey } = process.env;
  if (!endpoint || !accessKeyId || !secretAccessKey) {
    const missing = 'no S3 endpoint for the backend tests: set CHARTROOM_TEST_S3_ENDPOINT, CHARTROOM_TEST_S3_ACCESS_KEY and CHARTROOM_TEST_S3_SECRET_KEY (scripts/start-s3.sh starts radosgw and prints them)';
    if (process.env.CHARTROOM_TEST_REQUIRE_BACKENDS === '1') t.fail(`${missing}; CHARTROOM_TEST_REQUIRE_BACKENDS=1 requires it`);
    else t.plan(0, `skip: ${missing}`);
    return undefined;
  }
  const defaults = loadConfig().storage.s3;
  return { ...defaults, endpoint, accessKeyId, secretAccessKey, region: process.env.CHARTROOM_TEST_S3_REGION ?? 'us-east-1', forcePathStyle: true };
}

/** A fresh bucket on the test endpoint, emptied and removed when `t` ends. */
export async function testBucket(t: Test): Promise<TestBucket | undefined> {
  const settings = s3Settings(t);
  if (!settings) return undefined;
  const bucket = `chartroom-test-${randomBytes(6).toString('hex')}`;
  const config = { ...settings, bucket };
  const client = createS3Client(config, quietLog);
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  t.teardown(async () => {
    const objects = bucketObjects(client, bucket);
    for await (const { key, uploadId } of objects.multipartUploads('')) await objects.abortMultipart(key, uploadId);
    for await (const { key } of objects.list('')) await objects.remove(key);
    await client.send(new DeleteBucketCommand({ Bucket: bucket }));
    client.destroy();
  });
  return { config, client, bucket };
}

/** Config overrides (dotted paths) that put a server's blobs in `config`'s bucket. */
export function s3Overrides(config: S3StorageConfig): Record<string, unknown> {
  return { 'storage.driver': 's3', ...Object.fromEntries(Object.entries(config).map(([key, value]) => [`storage.s3.${key}`, value])) };
}
