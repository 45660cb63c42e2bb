import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { CreateBucketCommand, CreateMultipartUploadCommand, UploadPartCommand, AbortMultipartUploadCommand } from '@aws-sdk/client-s3';
import { createS3Client } from './src/storage/s3/client.js';
import { loadConfig } from './src/config/index.js';
import { pino } from 'pino';
import { createSHA256 } from 'hash-wasm';
const cfg = { ...loadConfig().storage.s3, endpoint: 'http://127.0.0.1:7480', accessKeyId: 'testaccesskey', secretAccessKey: 'testsecretkey0123456789', forcePathStyle: true };
const c = createS3Client(cfg, pino({ level: 'silent' }));
const Bucket = `raw-${Date.now()}`; await c.send(new CreateBucketCommand({ Bucket }));
const Key = 'k'; const { UploadId } = await c.send(new CreateMultipartUploadCommand({ Bucket, Key }));
const block = randomBytes(Number(process.env.BLOCK));
const h = await createSHA256(); h.init();
function stream(hash: boolean) { let sent = 0; return new Readable({ read() { if (sent >= 8 * 1048576) return this.push(null); const p = Buffer.from(block); sent += p.length; if (hash) h.update(p); this.push(p); } }); }
for (const hash of [false, true, false, true]) {
  const t = performance.now();
  for (let i = 1; i <= 16; i++) await c.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: i, Body: stream(hash), ContentLength: 8 * 1048576 }));
  console.log('streamed UploadPart', hash ? 'hashed' : 'plain', (128 / ((performance.now() - t) / 1000)).toFixed(0), 'MiB/s');
}
await c.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId }));
