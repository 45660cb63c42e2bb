import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import t, { type Test } from 'tap';
import { openMetadata } from '../../src/db/index.js';
import { createLogger } from '../../src/logger.js';
import { noChangeListener } from '../../src/registry/changes.js';
import { createGarbageCollector, type GcItem, type GcOptions } from '../../src/registry/gc.js';
import { createRegistry } from '../../src/registry/index.js';
import type { BlobStore } from '../../src/storage/blob-store.js';
import { createDiskBlobStore } from '../../src/storage/disk-blob-store.js';
import type { Config } from '../../src/config/index.js';
import { describe, mediaTypes, pushBlob, pushImage, putManifest, sha256, sha256hex } from '../helpers/oci.js';
import { chartTgz, pushChart } from '../helpers/charts.js';
import { buildTestApp } from '../helpers/server.js';

const now: GcOptions = { graceSeconds: 0, untagged: false, dryRun: false };

/** A second registry process's view of the same data, the way `chartroom gc` opens it. */
async function collectorOn(t: Test, config: Config, wrap: (store: BlobStore) => BlobStore = (store) => store) {
  const metadata = await openMetadata(config);
  t.teardown(() => metadata.close());
  const blobs = wrap(await createDiskBlobStore(config.data));
  const ctx = { metadata, blobs, config, log: createLogger('silent'), now: Date.now, changes: noChangeListener };
  return { gc: createGarbageCollector(ctx), registry: createRegistry(ctx), metadata, blobs };
}

async function collect(gc: ReturnType<typeof createGarbageCollector>, options: Partial<GcOptions> = {}) {
  const items: GcItem[] = [];
  // A millisecond passes so that what was just pushed is older than a zero grace period.
  await new Promise((resolve) => setTimeout(resolve, 2));
  const report = await gc.run({ ...now, ...options, onItem: (item) => items.push(item) });
  return { report, items, digests: items.map((item) => item.digest).sort() };
}

async function blobBytes(app: FastifyInstance, repository: string, digest: string): Promise<{ status: number; ok: boolean }> {
  const res = await app.inject({ method: 'GET', url: `/v2/${repository}/blobs/${digest}` });
  return { status: res.statusCode, ok: res.statusCode === 200 && sha256(res.rawPayload) === digest };
}

function blobFiles(dataDir: string): string[] {
  const root = join(dataDir, 'blobs', 'sha256');
  return readdirSync(root).flatMap((prefix) => readdirSync(join(root, prefix)).map((hex) => `sha256:${hex}`));
}

t.test('removes blobs nothing references, keeps every blob a manifest needs', async (t) => {
  const { app, config, dataDir } = await buildTestApp(t);
  const kept = await pushImage(app, 'team/app', 'v1');
  const dropped = await pushImage(app, 'team/app', 'v2');
  const orphan = await pushBlob(app, 'team/other', randomBytes(300));
  t.equal((await app.inject({ method: 'DELETE', url: `/v2/team/app/manifests/${dropped.digest}` })).statusCode, 202);
  const garbage = [orphan, sha256(dropped.config), ...dropped.layers.map((layer) => sha256(layer))].sort();
  const { gc } = await collectorOn(t, config);

  const dry = await collect(gc, { dryRun: true });
  t.same(dry.digests, garbage, 'a dry run names the unreferenced blobs');
  t.same(dry.report.blobs, { count: 4, bytes: 300 + dropped.config.length + 512 + 1024 });
  t.equal(blobFiles(dataDir).length, 7, 'and removes nothing');
  t.ok((await blobBytes(app, 'team/other', orphan)).ok);

  const real = await collect(gc);
  t.same(real.digests, garbage);
  t.same(real.report.files, { count: 0, bytes: 0 }, 'no stray files');
  t.same(blobFiles(dataDir).sort(), [sha256(kept.config), ...kept.layers.map((layer) => sha256(layer))].sort(), 'only the live files remain');
  for (const digest of [sha256(kept.config), ...kept.layers.map((layer) => sha256(layer))]) {
    t.ok((await blobBytes(app, 'team/app', digest)).ok, `live blob ${digest.slice(0, 15)} still served`);
  }
  for (const digest of garbage) t.equal((await blobBytes(app, 'team/app', digest)).status, 404, 'removed blob is unknown');
  t.equal((await app.inject({ method: 'GET', url: '/v2/team/app/manifests/v1' })).statusCode, 200);

  const again = await collect(gc);
  t.same([again.report.blobs.count, again.report.files.count], [0, 0], 'a second run finds nothing');

  // What was removed can be pushed again.
  t.equal(await pushBlob(app, 'team/other', Buffer.alloc(0)), sha256(Buffer.alloc(0)));
  const repushed = await app.inject({ method: 'POST', url: `/v2/team/app/blobs/uploads/?digest=${sha256(dropped.config)}`, payload: dropped.config });
  t.equal(repushed.statusCode, 201);
  t.ok((await blobBytes(app, 'team/app', sha256(dropped.config))).ok);
});

t.test('a blob shared with a live manifest stays; the grace period keeps recent blobs', async (t) => {
  const { app, config } = await buildTestApp(t);
  const shared = randomBytes(700);
  const configBlob = Buffer.from('{"shared":true}');
  for (const repository of ['a/one', 'b/two']) {
    await pushBlob(app, repository, shared);
    await pushBlob(app, repository, configBlob);
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: mediaTypes.ociManifest,
      config: describe(configBlob, mediaTypes.ociConfig),
      layers: [describe(shared, mediaTypes.ociLayer)],
    });
    t.equal((await putManifest(app, repository, 'v1', manifest)).statusCode, 201);
  }
  const oneDigest = sha256((await app.inject({ method: 'GET', url: '/v2/a/one/manifests/v1' })).rawPayload);
  t.equal((await app.inject({ method: 'DELETE', url: `/v2/a/one/manifests/${oneDigest}` })).statusCode, 202);
  const fresh = await pushBlob(app, 'a/one', randomBytes(50));
  const { gc } = await collectorOn(t, config);

  t.same((await collect(gc, { graceSeconds: 3600 })).items, [], 'nothing older than an hour');
  const run = await collect(gc);
  t.same(run.digests, [fresh], 'only the unreferenced blob goes');
  t.ok((await blobBytes(app, 'b/two', sha256(shared))).ok, 'the shared layer is still served');
});

t.test('--untagged removes manifests no tag, index or subject keeps, then their blobs', async (t) => {
  const { app, config } = await buildTestApp(t);
  const tagged = await pushImage(app, 'team/app', 'v1');
  const untagged = await pushImage(app, 'team/app', 'temp');
  t.equal((await app.inject({ method: 'DELETE', url: '/v2/team/app/manifests/temp' })).statusCode, 202, 'tag removed');
  const child = await pushImage(app, 'team/app', 'child');
  const index = JSON.stringify({ schemaVersion: 2, mediaType: mediaTypes.ociIndex, manifests: [describe(child.manifest, mediaTypes.ociManifest)] });
  t.equal((await putManifest(app, 'team/app', 'multi', index, mediaTypes.ociIndex)).statusCode, 201);
  t.equal((await app.inject({ method: 'DELETE', url: '/v2/team/app/manifests/child' })).statusCode, 202, 'the child keeps only its index');
  const signature = await pushImage(app, 'team/app', 'sig', { subject: describe(tagged.manifest, mediaTypes.ociManifest) });
  t.equal((await app.inject({ method: 'DELETE', url: '/v2/team/app/manifests/sig' })).statusCode, 202, 'a referrer without tag');
  const { gc } = await collectorOn(t, config);

  const plain = await collect(gc, { dryRun: true });
  t.equal(plain.report.manifests.count, 0, 'manifests are left alone unless asked');

  const run = await collect(gc, { untagged: true });
  t.same(
    run.items.filter((item) => item.kind === 'manifest').map((item) => item.digest),
    [untagged.digest],
    'only the manifest nothing keeps goes',
  );
  t.same(run.items.filter((item) => item.kind === 'blob').map((item) => item.digest).sort(), [untagged.config, ...untagged.layers].map((b) => sha256(b)).sort(), 'with the blobs only it used');
  t.equal((await app.inject({ method: 'GET', url: `/v2/team/app/manifests/${untagged.digest}` })).statusCode, 404);
  for (const reference of ['v1', 'multi', child.digest, signature.digest]) {
    t.equal((await app.inject({ method: 'GET', url: `/v2/team/app/manifests/${reference}` })).statusCode, 200, `${reference.slice(0, 15)} kept`);
  }
  const referrers = await app.inject({ method: 'GET', url: `/v2/team/app/referrers/${tagged.digest}` });
  t.equal((JSON.parse(referrers.body) as { manifests: unknown[] }).manifests.length, 1, 'the signature is still listed');
});

t.test('an untagged chart version leaves the chart views with its manifest', async (t) => {
  const { app, config } = await buildTestApp(t);
  await pushChart(app, 'team/demo', chartTgz({ name: 'demo', version: '1.0.0' }), '1.0.0');
  const pushed = await pushChart(app, 'team/demo', chartTgz({ name: 'demo', version: '2.0.0' }), '2.0.0');
  t.equal((await app.inject({ method: 'DELETE', url: '/v2/team/demo/manifests/2.0.0' })).statusCode, 202);
  const { gc } = await collectorOn(t, config);
  const run = await collect(gc, { untagged: true });
  t.same(run.items.filter((item) => item.kind === 'manifest').map((item) => item.digest), [sha256(pushed.manifest)]);
  const versions = JSON.parse((await app.inject({ method: 'GET', url: '/api/v1/charts/team/demo' })).body) as { versions: { version: string }[] };
  t.same(versions.versions.map((v) => v.version), ['1.0.0']);
});

t.test('stray files under blobs/ that no record names are removed once past the grace period', async (t) => {
  const { app, config, dataDir } = await buildTestApp(t);
  const live = await pushBlob(app, 'team/app', randomBytes(64));
  const bytes = randomBytes(99);
  const hex = sha256hex(bytes);
  mkdirSync(join(dataDir, 'blobs', 'sha256', hex.slice(0, 2)), { recursive: true });
  writeFileSync(join(dataDir, 'blobs', 'sha256', hex.slice(0, 2), hex), bytes);
  writeFileSync(join(dataDir, 'blobs', 'sha256', hex.slice(0, 2), 'not-a-digest'), 'left alone');
  const { gc } = await collectorOn(t, config);
  t.same((await collect(gc, { graceSeconds: 3600 })).items, []);
  const run = await collect(gc);
  t.same(run.items.map((item) => [item.kind, item.digest]).sort(), [['blob', live], ['file', `sha256:${hex}`]].sort());
  t.same(run.report.files, { count: 1, bytes: 99 });
  t.notOk(blobFiles(dataDir).includes(`sha256:${hex}`));
  t.ok(blobFiles(dataDir).includes('sha256:not-a-digest'), 'a file that is not a blob is not touched');
});

t.test('an upload of bytes a collection is removing at that moment is stored again, not lost', async (t) => {
  const { app, config } = await buildTestApp(t);
  const bytes = randomBytes(2048);
  const digest = await pushBlob(app, 'team/app', bytes);
  t.equal((await app.inject({ method: 'DELETE', url: `/v2/team/app/blobs/${digest}` })).statusCode, 202, 'unlinked: garbage now');
  // The same bytes arrive again; between storing them and recording them, a collection runs.
  let collectedMidUpload = false;
  const { gc, registry, blobs } = await collectorOn(t, config, (store) => ({
    ...store,
    async commit(id, expected, size) {
      const result = await store.commit(id, expected, size);
      if (!collectedMidUpload) {
        collectedMidUpload = true;
        const run = await collect(gc);
        t.same(run.digests, [digest], 'the collection removed the stored copy');
      }
      return result;
    },
  }));
  const pushed = await registry.uploads.start('team/app', { digest }, { stream: Readable.from([bytes]), present: true, length: bytes.length });
  t.same(pushed, { kind: 'created', digest });
  t.ok(collectedMidUpload);
  t.ok(blobs.has(digest), 'the file is back');
  t.ok((await blobBytes(app, 'team/app', digest)).ok, 'and served byte for byte');
});
