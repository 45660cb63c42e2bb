// `npm run bench:s3`: the S3 blob store on its own, against the endpoint in CHARTROOM_TEST_S3_*
// (scripts/start-s3.sh starts radosgw on loopback): hash-wasm's sha256 next to Node's, a 512 MiB
// upload in 8 MiB chunks (with a Content-Length, so streamed; and without one, so cut into parts
// in memory), its commit, and reading it back; with this process's peak RSS growth for each.
import { createHash, randomBytes } from 'node:crypto';
import { CreateBucketCommand, DeleteBucketCommand } from '@aws-sdk/client-s3';
import { createSHA256 } from 'hash-wasm';
import { pino } from 'pino';
import { loadConfig } from '../src/config/index.js';
import { createS3Client } from '../src/storage/s3/client.js';
import { bucketObjects } from '../src/storage/s3/objects.js';
import { createS3BlobStore } from '../src/storage/s3/s3-blob-store.js';
import { repeatingBody } from '../test/helpers/bodies.js';
import { memoryMiB, resetPeakRss } from './proc.js';

const mib = 1024 * 1024;
const total = 512 * mib;
const chunk = 8 * mib;
const { CHARTROOM_TEST_S3_ENDPOINT: endpoint, CHARTROOM_TEST_S3_ACCESS_KEY: accessKeyId, CHARTROOM_TEST_S3_SECRET_KEY: secretAccessKey } = process.env;
if (!endpoint || !accessKeyId || !secretAccessKey) {
  console.error('set CHARTROOM_TEST_S3_ENDPOINT, _ACCESS_KEY and _SECRET_KEY (scripts/start-s3.sh prints them)');
  process.exit(2);
}

function rate(bytes: number, ms: number): string {
  return `${((bytes / mib) / (ms / 1000)).toFixed(0)} MiB/s`;
}

async function hashRates(): Promise<void> {
  const block = randomBytes(mib);
  const wasm = await createSHA256();
  wasm.init();
  let started = performance.now();
  for (let i = 0; i < 256; i++) wasm.update(block);
  const wasmMs = performance.now() - started;
  const node = createHash('sha256');
  started = performance.now();
  for (let i = 0; i < 256; i++) node.update(block);
  const nodeMs = performance.now() - started;
  console.log(`sha256 over 256 MiB: hash-wasm ${rate(256 * mib, wasmMs)}, node:crypto ${rate(256 * mib, nodeMs)}`);
}

await hashRates();
const config = { ...loadConfig().storage.s3, endpoint, accessKeyId, secretAccessKey, forcePathStyle: true };
const log = pino({ level: 'silent' });
const client = createS3Client(config, log);
const bucket = `chartroom-bench-${randomBytes(4).toString('hex')}`;
await client.send(new CreateBucketCommand({ Bucket: bucket }));
try {
  const store = createS3BlobStore({ client, bucket, prefix: '', partSize: config.partSizeBytes, log });
  const block = randomBytes(64 * 1024);
  for (const known of [true, false]) {
    resetPeakRss(process.pid);
    const before = memoryMiB(process.pid, 'VmRSS');
    const hash = createHash('sha256');
    const id = await store.startUpload();
    let state: string | undefined;
    const cpuBefore = process.cpuUsage();
    let started = performance.now();
    for (let offset = 0; offset < total; offset += chunk) {
      ({ state } = await store.append(id, repeatingBody(chunk, block, hash), offset, { state, length: known ? chunk : undefined }));
    }
    const appendMs = performance.now() - started;
    const cpu = process.cpuUsage(cpuBefore);
    const cpuMsPerMiB = (cpu.user + cpu.system) / 1000 / (total / mib);
    const digest = `sha256:${hash.digest('hex')}`;
    started = performance.now();
    await store.commit(id, digest, total, state);
    const commitMs = performance.now() - started;
    await store.abort(id, state);
    const growth = memoryMiB(process.pid, 'VmHWM') - before;
    started = performance.now();
    let read = 0;
    for await (const bytes of (await store.open(digest)) as AsyncIterable<Buffer>) read += bytes.length;
    const readMs = performance.now() - started;
    console.log(
      `512 MiB in 8 MiB chunks, length ${known ? 'known (streamed)' : 'unknown (parts in memory)'}: appends ${rate(total, appendMs)}, ` +
        `(this process ${cpuMsPerMiB.toFixed(1)} ms CPU per MiB), commit ${(commitMs / 1000).toFixed(1)} s, end to end ${rate(total, appendMs + commitMs)}; ` +
        `read back ${rate(read, readMs)}; peak RSS growth ${growth.toFixed(0)} MiB`,
    );
    await store.remove(digest);
  }
} finally {
  const objects = bucketObjects(client, bucket);
  for await (const { key, uploadId } of objects.multipartUploads('')) await objects.abortMultipart(key, uploadId);
  for await (const { key } of objects.list('')) await objects.remove(key);
  await client.send(new DeleteBucketCommand({ Bucket: bucket }));
}
