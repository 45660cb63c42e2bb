// The routes over the S3 store: with storage.s3.redirect, blob GETs and classic chart downloads
// answer 307 to a presigned URL that serves the bytes (and ranges) straight from S3; an S3 that
// cannot be reached is a 503 that names nothing of it.
import { join } from 'node:path';
import t from 'tap';
import { createSqliteMetadata } from '../../src/db/sqlite-metadata.js';
import { createS3Client } from '../../src/storage/s3/client.js';
import { createS3BlobStore } from '../../src/storage/s3/s3-blob-store.js';
import { chartTgz, helmTypes } from '../helpers/charts.js';
import { describe, putManifest, sha256 } from '../helpers/oci.js';
import { buildTestApp } from '../helpers/server.js';
import { stored } from './blob-store-suite.js';
import { quietLog, testBucket } from './s3.js';

const target = await testBucket(t);

if (target) {
  t.test('blob GETs and chart downloads redirect to S3', async (t) => {
    const blobs = createS3BlobStore({
      client: target.client,
      bucket: target.bucket,
      prefix: 'routes',
      partSize: 5 * 1024 * 1024,
      log: quietLog,
      redirect: { client: target.client, seconds: 300 },
    });
    const { app, dataDir } = await buildTestApp(t, {}, undefined, { blobs });

    // Pushing through HTTP records blobs under the embedded metadata store's lock, which needs a
    // synchronous blob store; the bytes go to S3 here and are recorded as a push would.
    const repository = 'team/app';
    const tgz = chartTgz({ name: 'app', version: '1.0.0' });
    const config = Buffer.from(JSON.stringify({ name: 'app', version: '1.0.0', apiVersion: 'v2' }));
    const metadata = createSqliteMetadata(join(dataDir, 'chartroom.db'), { searchIndex: true });
    t.teardown(() => metadata.close());
    for (const bytes of [config, tgz]) {
      await stored(blobs, bytes);
      await metadata.linkNewBlob(repository, { digest: sha256(bytes), size: bytes.length }, () => true);
    }
    const manifest = JSON.stringify({ schemaVersion: 2, config: describe(config, helmTypes.config), layers: [describe(tgz, helmTypes.chart)] });
    t.equal((await putManifest(app, repository, '1.0.0', manifest)).statusCode, 201, 'the chart is pushed (its layer read from S3)');

    const get = await app.inject({ method: 'GET', url: `/v2/${repository}/blobs/${sha256(tgz)}` });
    t.equal(get.statusCode, 307);
    t.equal(get.headers['docker-content-digest'], sha256(tgz));
    t.equal(get.headers['cache-control'], 'no-store', 'a redirect that expires is not cached');
    t.equal(get.rawPayload.length, 0);
    const location = get.headers.location as string;
    t.ok(location.startsWith(`${target.config.endpoint}/${target.bucket}/routes/blobs/sha256/`), 'to the blob in the bucket');
    const fetched = await fetch(location);
    t.ok(Buffer.from(await fetched.arrayBuffer()).equals(tgz), 'which serves the blob');
    const ranged = await fetch(location, { headers: { range: 'bytes=3-12' } });
    t.equal(ranged.status, 206);
    t.ok(Buffer.from(await ranged.arrayBuffer()).equals(tgz.subarray(3, 13)), 'and ranges of it');

    const head = await app.inject({ method: 'HEAD', url: `/v2/${repository}/blobs/${sha256(tgz)}` });
    t.equal(head.statusCode, 200, 'HEAD is answered here');
    t.equal(head.headers['content-length'], String(tgz.length));
    const unknown = await app.inject({ method: 'GET', url: `/v2/${repository}/blobs/${sha256('not linked')}` });
    t.equal(unknown.statusCode, 404, 'a blob the repository does not have is still a 404, not a redirect');

    const download = await app.inject({ method: 'GET', url: '/chartrepo/team/charts/app-1.0.0.tgz' });
    t.equal(download.statusCode, 307);
    t.ok(Buffer.from(await (await fetch(download.headers.location as string)).arrayBuffer()).equals(tgz), 'the chart download redirects to the same bytes');
    const cached = await app.inject({ method: 'GET', url: '/chartrepo/team/charts/app-1.0.0.tgz', headers: { 'if-none-match': `"${sha256(tgz)}"` } });
    t.equal(cached.statusCode, 304, 'a client that has the chart is told so, not sent away');
  });
}

if (target) {
  t.test('an S3 that cannot be reached is a 503 without details, and the server is not ready', async (t) => {
    const client = createS3Client({ ...target.config, endpoint: 'http://127.0.0.1:9' }, quietLog);
    t.teardown(() => client.destroy());
    const blobs = createS3BlobStore({ client, bucket: target.bucket, prefix: 'down', partSize: 5 * 1024 * 1024, log: quietLog });
    const { app, dataDir } = await buildTestApp(t, {}, undefined, { blobs });
    const bytes = Buffer.from('recorded, but its store is down');
    const metadata = createSqliteMetadata(join(dataDir, 'chartroom.db'), { searchIndex: true });
    t.teardown(() => metadata.close());
    await metadata.linkNewBlob('team/app', { digest: sha256(bytes), size: bytes.length }, () => true);

    const get = await app.inject({ method: 'GET', url: `/v2/team/app/blobs/${sha256(bytes)}` });
    t.equal(get.statusCode, 503);
    t.same(get.json(), { errors: [{ code: 'UNAVAILABLE', message: 'blob storage is unavailable; try again later' }] }, 'nothing of S3 in the body');
    const patch = await app.inject({ method: 'POST', url: '/v2/team/app/blobs/uploads/?digest=' + sha256(bytes), payload: bytes });
    t.equal(patch.statusCode, 503, 'an upload fails the same way');
    t.notOk(patch.body.includes('127.0.0.1:9') || patch.body.includes(target.config.secretAccessKey));
    const ready = await app.inject({ method: 'GET', url: '/readyz' });
    t.equal(ready.statusCode, 503);
    t.equal(ready.json().checks.dataDir, 'failing');
  });
}
