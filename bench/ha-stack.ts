// The PostgreSQL + S3 stack for benchmarks: the engines on loopback (started by the project's
// scripts when they are not running), a fresh schema and a fresh bucket, and the environment that
// points a Chartroom process at them. Everything is removed again by `cleanup`.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand, DeleteBucketCommand } from '@aws-sdk/client-s3';
import pg from 'pg';
import { pino } from 'pino';
import { loadConfig } from '../src/config/index.js';
import { createS3Client } from '../src/storage/s3/client.js';
import { bucketObjects } from '../src/storage/s3/objects.js';

const scripts = fileURLToPath(new URL('../scripts/', import.meta.url));

export interface HaStack {
  /** For `chartroom serve`: PostgreSQL metadata in its own schema, blobs in its own bucket. */
  env: Record<string, string>;
  cleanup(): Promise<void>;
}

/** `KEY=value` lines a start script prints. */
function variables(output: string): Record<string, string> {
  return Object.fromEntries(output.split('\n').flatMap((line) => {
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    return match ? [[match[1] as string, match[2] as string]] : [];
  }));
}

export async function startHaStack(): Promise<HaStack> {
  const database = variables(execFileSync('bash', [`${scripts}start-postgres.sh`], { encoding: 'utf8' })).CHARTROOM_TEST_DATABASE_URL as string;
  const s3 = variables(execFileSync('bash', [`${scripts}start-s3.sh`], { encoding: 'utf8', env: { ...process.env, S3_INSTALL: '1' } }));
  const suffix = randomBytes(4).toString('hex');
  const schema = `bench_${suffix}`;
  const admin = new pg.Client({ connectionString: database });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.end();
  const url = new URL(database);
  url.searchParams.set('options', `-c search_path=${schema}`);

  const bucket = `chartroom-bench-${suffix}`;
  const settings = {
    ...loadConfig().storage.s3,
    endpoint: s3.S3_ENDPOINT as string,
    accessKeyId: s3.S3_ACCESS_KEY as string,
    secretAccessKey: s3.S3_SECRET_KEY as string,
    forcePathStyle: true,
    bucket,
  };
  const client = createS3Client(settings, pino({ level: 'silent' }));
  await client.send(new CreateBucketCommand({ Bucket: bucket }));

  return {
    env: {
      CHARTROOM_METADATA_DRIVER: 'postgres',
      CHARTROOM_DATABASE_URL: url.toString(),
      CHARTROOM_STORAGE_DRIVER: 's3',
      CHARTROOM_S3_ENDPOINT: s3.S3_ENDPOINT as string,
      CHARTROOM_S3_BUCKET: bucket,
      CHARTROOM_S3_ACCESS_KEY_ID: s3.S3_ACCESS_KEY as string,
      CHARTROOM_S3_SECRET_ACCESS_KEY: s3.S3_SECRET_KEY as string,
      CHARTROOM_S3_FORCE_PATH_STYLE: 'true',
    },
    async cleanup() {
      const objects = bucketObjects(client, bucket);
      for await (const { key, uploadId } of objects.multipartUploads('')) await objects.abortMultipart(key, uploadId);
      for await (const { key } of objects.list('')) await objects.remove(key);
      await client.send(new DeleteBucketCommand({ Bucket: bucket })).catch(() => undefined);
      client.destroy();
      const cleaner = new pg.Client({ connectionString: database });
      await cleaner.connect();
      await cleaner.query(`DROP SCHEMA ${schema} CASCADE`);
      await cleaner.end();
    },
  };
}
