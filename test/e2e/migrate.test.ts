import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import t, { type Test } from 'tap';
import { stringify as toYaml } from 'yaml';
import { openMetadata } from '../../src/db/index.js';
import { openEmbeddedExport } from '../../src/db/sqlite-export.js';
import { migrate, MigrateError } from '../../src/ops/migrate.js';
import { blobFile, createDiskBlobStore } from '../../src/storage/disk-blob-store.js';
import { createLogger } from '../../src/logger.js';
import { createBlobStore } from '../../src/storage/index.js';
import { freshPostgresUrl, haveBackend, testDatabaseUrl } from '../helpers/backends.js';
import { chartTgz, pushChart } from '../helpers/charts.js';
import { runCli } from '../helpers/cli.js';
import { imageManifest, mediaTypes, pushBlob, pushImage, putManifest, sha256 } from '../helpers/oci.js';
import { buildTestApp, startServer, tempDataDir } from '../helpers/server.js';
import { helmFor, pullOne } from '../helpers/helm.js';
import { s3Overrides, testBucket } from '../backends/s3.js';
import type { S3StorageConfig } from '../../src/config/schema.js';

// The source is always the embedded store (that is what migrate reads), whatever the tests run on.
const embedded = { 'metadata.driver': 'sqlite' };

/** An embedded registry with charts, images, an index, a referrer, an untagged manifest and a robot token. */
async function seedSource(t: Test) {
  const dataDir = tempDataDir(t);
  const { app, config } = await buildTestApp(t, embedded, dataDir);
  for (const [name, version] of [['app', '1.0.0'], ['app', '1.1.0'], ['db', '2.0.0-rc.1'], ['db', '2.0.0']] as const) {
    const pushed = await pushChart(app, `team/${name}`, chartTgz({ name, version, readme: `# ${name} ${version}` }), version);
    if (pushed.res.statusCode !== 201) throw new Error(`chart push failed: ${pushed.res.body}`);
  }
  const image = await pushImage(app, 'team/image', 'v1');
  const other = await pushImage(app, 'team/image', 'v2');
  const index = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: mediaTypes.ociIndex,
    manifests: [image, other].map((m) => ({ mediaType: mediaTypes.ociManifest, digest: m.digest, size: m.manifest.length })),
  }));
  t.equal((await putManifest(app, 'team/image', 'multi', index, mediaTypes.ociIndex)).statusCode, 201);
  const sbomConfig = Buffer.from('{}');
  await pushBlob(app, 'team/image', sbomConfig);
  const referrer = imageManifest(sbomConfig, [], { subject: { mediaType: mediaTypes.ociManifest, digest: image.digest, size: image.manifest.length }, artifactType: 'application/spdx+json' });
  t.equal((await putManifest(app, 'team/image', sha256(referrer), referrer)).statusCode, 201);
  t.equal((await app.inject({ method: 'DELETE', url: '/v2/team/image/manifests/v2' })).statusCode, 202, 'v2 stays as an untagged manifest');
  const metadata = await openMetadata(config);
  await metadata.createRobotToken({ name: 'ci', secretHash: 'ab'.repeat(32), scopes: [{ repository: 'team/**', actions: ['pull'] }], createdAt: 1, expiresAt: undefined, revokedAt: undefined });
  await metadata.close();
  return { app, dataDir, image, other, referrer, index };
}

/** What a client sees of a registry: every view migrate must carry over. */
async function view(app: FastifyInstance, digests: string[]) {
  const get = async (url: string, headers: Record<string, string> = {}) => {
    const res = await app.inject({ method: 'GET', url, headers });
    return `${res.statusCode} ${res.statusCode === 200 ? sha256(res.rawPayload) : ''}`;
  };
  const accept = { accept: `${mediaTypes.ociManifest}, ${mediaTypes.ociIndex}` };
  const index = (await app.inject({ method: 'GET', url: '/chartrepo/team/index.yaml' })).body.replace(/^generated: .*$/m, '');
  return {
    catalog: (await app.inject({ method: 'GET', url: '/v2/_catalog' })).body,
    tags: await Promise.all(['team/app', 'team/db', 'team/image'].map(async (r) => (await app.inject({ method: 'GET', url: `/v2/${r}/tags/list` })).body)),
    manifests: await Promise.all(['team/app/manifests/1.0.0', 'team/db/manifests/2.0.0', 'team/image/manifests/v1', 'team/image/manifests/multi'].map((p) => get(`/v2/${p}`, accept))),
    byDigest: await Promise.all(digests.map((d) => get(`/v2/team/image/manifests/${d}`, accept))),
    referrers: (await app.inject({ method: 'GET', url: `/v2/team/image/referrers/${digests[0]}` })).body,
    index,
    search: JSON.parse((await app.inject({ method: 'GET', url: '/api/v1/search?q=app&versions=true' })).body) as unknown,
  };
}

async function blobsOf(app: FastifyInstance, repository: string, manifestRef: string): Promise<string[]> {
  const res = await app.inject({ method: 'GET', url: `/v2/${repository}/manifests/${manifestRef}`, headers: { accept: mediaTypes.ociManifest } });
  const manifest = JSON.parse(res.body) as { config: { digest: string }; layers: { digest: string }[] };
  const digests = [manifest.config.digest, ...manifest.layers.map((l) => l.digest)];
  return Promise.all(digests.map(async (d) => sha256((await app.inject({ method: 'GET', url: `/v2/${repository}/blobs/${d}` })).rawPayload)));
}

/** A target config file: its own data directory, PostgreSQL when `url` is given, an S3 bucket when `s3` is. */
function targetConfig(t: Test, url?: string, s3?: S3StorageConfig): { file: string; overrides: Record<string, unknown> } {
  const dir = tempDataDir(t);
  const metadata = url ? { driver: 'postgres', url } : undefined;
  const storage = s3 ? { driver: 's3', s3: { endpoint: s3.endpoint, bucket: s3.bucket, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey, forcePathStyle: true } } : undefined;
  const file = join(dir, 'target.yaml');
  writeFileSync(file, toYaml({ data: join(dir, 'data'), ...(metadata ? { metadata } : {}), ...(storage ? { storage } : {}) }));
  const overrides: Record<string, unknown> = {
    data: join(dir, 'data'),
    ...(metadata ? { 'metadata.driver': metadata.driver, 'metadata.url': metadata.url } : embedded),
    ...(s3 ? s3Overrides(s3) : {}),
  };
  return { file, overrides };
}

async function checkMigrated(t: Test, target: { overrides: Record<string, unknown> }, source: Awaited<ReturnType<typeof seedSource>>) {
  const digests = [source.image.digest, source.other.digest, sha256(source.referrer), sha256(source.index)];
  const expected = await view(source.app, digests);
  const { app } = await buildTestApp(t, target.overrides, target.overrides.data as string);
  t.same(await view(app, digests), expected, 'catalog, tags, manifests by tag and digest, the untagged one, referrers, index.yaml, search: all as before');
  t.same(await blobsOf(app, 'team/image', 'v1'), await blobsOf(source.app, 'team/image', 'v1'), 'blobs byte for byte');
  t.same(await blobsOf(app, 'team/app', '1.1.0'), await blobsOf(source.app, 'team/app', '1.1.0'));
  const robots = JSON.stringify(await (async () => {
    const metadata = await openMetadata((await buildTestApp(t, target.overrides, target.overrides.data as string)).config);
    try {
      return await metadata.listRobotTokens();
    } finally {
      await metadata.close();
    }
  })());
  t.match(robots, /"name":"ci"/, 'robot tokens');
}

t.test('migrate copies an embedded registry into another store, and runs again as a no-op', async (t) => {
  const source = await seedSource(t);
  const target = targetConfig(t);
  const first = await runCli(['migrate', target.file, '--data', source.dataDir]);
  t.equal(first.status, 0, first.stderr);
  t.match(first.stderr, /migrated .*: 15 blobs copied .*, 0 already there, 15 links, 8 manifests, 6 tags, 1 robot tokens/);
  await checkMigrated(t, target, source);
  const again = await runCli(['migrate', target.file, '--data', source.dataDir]);
  t.equal(again.status, 0, again.stderr);
  t.match(again.stderr, /0 blobs copied \(0 B\), 15 already there/, 'a second run copies no blob');
  t.match(again.stderr, /0 robot tokens/);
  await checkMigrated(t, target, source);
});

t.test('migrate into PostgreSQL', async (t) => {
  if (!haveBackend(t, 'PostgreSQL (CHARTROOM_TEST_DATABASE_URL)', testDatabaseUrl !== undefined)) return;
  const source = await seedSource(t);
  const target = targetConfig(t, await freshPostgresUrl(t));
  const run = await runCli(['migrate', target.file, '--data', source.dataDir, '--parallel', '8']);
  t.equal(run.status, 0, run.stderr);
  await checkMigrated(t, target, source);
});

t.test('migrate into PostgreSQL and S3, then a stock helm pull from the result', async (t) => {
  if (!haveBackend(t, 'PostgreSQL (CHARTROOM_TEST_DATABASE_URL)', testDatabaseUrl !== undefined)) return;
  const bucket = await testBucket(t);
  if (!bucket) return;
  const source = await seedSource(t);
  const target = targetConfig(t, await freshPostgresUrl(t), bucket.config);
  const run = await runCli(['migrate', target.file, '--data', source.dataDir]);
  t.equal(run.status, 0, run.stderr);
  t.match(run.stderr, /15 blobs copied/);
  await checkMigrated(t, target, source);
  const server = await startServer(t, target.overrides, target.overrides.data as string);
  const h = helmFor(t, 4);
  if (!h) return;
  const pulled = await pullOne(t, h, `oci://${server.host}/team/app`, ['--version', '1.1.0']);
  const original = await source.app.inject({ method: 'GET', url: '/chartrepo/team/charts/app-1.1.0.tgz' });
  t.ok(pulled.bytes.equals(original.rawPayload), 'helm 4 pulls the chart from PostgreSQL + S3, byte for byte');
});

t.test('a damaged source blob stops the migration with its digest named; a fixed source then finishes', async (t) => {
  const source = await seedSource(t);
  const target = targetConfig(t);
  const victim = (await blobsOf(source.app, 'team/image', 'v1'))[1] as string;
  const file = blobFile(source.dataDir, victim);
  const original = (await import('node:fs')).readFileSync(file);
  writeFileSync(file, Buffer.concat([original.subarray(0, 10), Buffer.from('tampered'), original.subarray(18)]));
  const database = openEmbeddedExport(join(source.dataDir, 'chartroom.db'));
  t.teardown(() => database.close());
  const { config } = await buildTestApp(t, target.overrides, target.overrides.data as string);
  const metadata = await openMetadata(config);
  t.teardown(() => metadata.close());
  const stores = { database, blobs: await createDiskBlobStore(source.dataDir) };
  const into = { metadata, blobs: await createBlobStore(config, createLogger('silent')) };
  await t.rejects(migrate(stores, into, { parallel: 2, progress: () => undefined }), { name: MigrateError.name, message: new RegExp(`${victim}.*damaged`) });
  t.notOk(await into.blobs.stat(victim), 'the damaged blob was not stored');
  writeFileSync(file, original);
  const report = await migrate(stores, into, { parallel: 2, progress: () => undefined });
  t.ok(report.blobs.present > 0 && report.blobs.copied >= 1, 'the second run copies what was left');
  await checkMigrated(t, target, source);

  const refused = await runCli(['migrate', join(tempDataDir(t), 'missing.yaml'), '--data', source.dataDir]);
  t.equal(refused.status, 2);
  t.match(refused.stderr, /cannot read config file/);
  const empty = await runCli(['migrate', target.file, '--data', tempDataDir(t)]);
  t.equal(empty.status, 1);
  t.match(empty.stderr, /no embedded registry in/);
});
