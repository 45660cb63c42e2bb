import { randomBytes } from 'node:crypto';
import t from 'tap';
import { describe, errorCode, mediaTypes, pushBlob, pushImage, putManifest, sha256 } from '../helpers/oci.js';
import { chartTgz } from '../helpers/charts.js';
import { buildTestApp } from '../helpers/server.js';

t.test('PUT by tag, then GET and HEAD by tag and by digest, byte for byte', async (t) => {
  const { app } = await buildTestApp(t);
  const image = await pushImage(app, 'team/app', '1.0.0');
  for (const reference of ['1.0.0', image.digest]) {
    const get = await app.inject({ method: 'GET', url: `/v2/team/app/manifests/${reference}` });
    t.equal(get.statusCode, 200, reference);
    t.ok(get.rawPayload.equals(image.manifest), 'stored bytes returned as pushed');
    t.equal(get.headers['content-type'], mediaTypes.ociManifest);
    t.equal(get.headers['docker-content-digest'], image.digest);
    const head = await app.inject({ method: 'HEAD', url: `/v2/team/app/manifests/${reference}` });
    t.equal(head.statusCode, 200);
    t.equal(head.headers['content-length'], String(image.manifest.length));
    t.equal(head.headers['docker-content-digest'], image.digest);
    t.equal(head.body, '');
  }
});

t.test('the PUT reply names the manifest by digest', async (t) => {
  const { app } = await buildTestApp(t);
  const config = await pushBlob(app, 'team/app', Buffer.from('{}'));
  const body = JSON.stringify({ schemaVersion: 2, config: { mediaType: mediaTypes.ociConfig, digest: config, size: 2 }, layers: [] });
  const res = await putManifest(app, 'team/app', 'v1', body);
  t.equal(res.statusCode, 201);
  t.equal(res.headers['docker-content-digest'], sha256(body));
  t.equal(res.headers.location, `/v2/team/app/manifests/${sha256(body)}`);
});

t.test('Helm-style manifest: no mediaType in the body, type from Content-Type', async (t) => {
  const { app } = await buildTestApp(t);
  const config = Buffer.from('{"name":"app","version":"1.0.0"}');
  const chart = chartTgz({ name: 'app', version: '1.0.0' });
  await pushBlob(app, 'team/app', config);
  await pushBlob(app, 'team/app', chart);
  const body = JSON.stringify({
    schemaVersion: 2,
    config: describe(config, 'application/vnd.cncf.helm.config.v1+json'),
    layers: [describe(chart, 'application/vnd.cncf.helm.chart.content.v1.tar+gzip')],
    annotations: { 'org.opencontainers.image.title': 'app' },
  });
  t.equal((await putManifest(app, 'team/app', '1.0.0', body)).statusCode, 201);
  const get = await app.inject({ method: 'GET', url: '/v2/team/app/manifests/1.0.0' });
  t.equal(get.headers['content-type'], mediaTypes.ociManifest);
  t.equal(get.body, body);
});

t.test('Docker schema 2 manifests and manifest lists keep their types', async (t) => {
  const { app } = await buildTestApp(t);
  const config = Buffer.from('{"architecture":"amd64"}');
  const layer = randomBytes(64);
  await pushBlob(app, 'lib/img', config);
  await pushBlob(app, 'lib/img', layer);
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: mediaTypes.dockerManifest,
    config: describe(config, 'application/vnd.docker.container.image.v1+json'),
    layers: [describe(layer, 'application/vnd.docker.image.rootfs.diff.tar.gzip')],
  });
  t.equal((await putManifest(app, 'lib/img', 'amd64', manifest, mediaTypes.dockerManifest)).statusCode, 201);
  const list = JSON.stringify({
    schemaVersion: 2,
    mediaType: mediaTypes.dockerList,
    manifests: [{ ...describe(Buffer.from(manifest), mediaTypes.dockerManifest), platform: { architecture: 'amd64', os: 'linux' } }],
  });
  t.equal((await putManifest(app, 'lib/img', 'latest', list, mediaTypes.dockerList)).statusCode, 201);
  const get = await app.inject({ method: 'GET', url: '/v2/lib/img/manifests/latest' });
  t.equal(get.headers['content-type'], mediaTypes.dockerList);
  t.equal(get.body, list);
});

t.test('an OCI index needs its child manifests in the repository', async (t) => {
  const { app } = await buildTestApp(t);
  const child = await pushImage(app, 'team/app', 'child');
  const index = (digest: string): string =>
    JSON.stringify({ schemaVersion: 2, mediaType: mediaTypes.ociIndex, manifests: [{ mediaType: mediaTypes.ociManifest, digest, size: 10 }] });
  t.equal((await putManifest(app, 'team/app', 'multi', index(child.digest), mediaTypes.ociIndex)).statusCode, 201);
  const missing = await putManifest(app, 'team/app', 'broken', index(sha256('no such manifest')), mediaTypes.ociIndex);
  t.equal(missing.statusCode, 400);
  t.equal(errorCode(missing), 'MANIFEST_BLOB_UNKNOWN');
});

t.test('references must exist in this repository', async (t) => {
  const { app } = await buildTestApp(t);
  const config = await pushBlob(app, 'team/other', Buffer.from('{}'));
  const body = JSON.stringify({ schemaVersion: 2, config: { mediaType: mediaTypes.ociConfig, digest: config, size: 2 }, layers: [] });
  const res = await putManifest(app, 'team/app', 'v1', body);
  t.equal(res.statusCode, 400);
  t.equal(errorCode(res), 'MANIFEST_BLOB_UNKNOWN');
  t.match(JSON.parse(res.body).errors[0].detail, [{ kind: 'blob', digest: config }]);
  t.equal((await app.inject({ method: 'GET', url: '/v2/team/app/manifests/v1' })).statusCode, 404, 'nothing stored');
  t.equal((await app.inject({ method: 'GET', url: '/v2/team/app/tags/list' })).statusCode, 200, 'the repository row may exist, empty');
});

t.test('malformed manifests are MANIFEST_INVALID and store nothing', async (t) => {
  const { app } = await buildTestApp(t);
  const config = await pushBlob(app, 'team/app', Buffer.from('{}'));
  const good = { schemaVersion: 2, config: { mediaType: mediaTypes.ociConfig, digest: config, size: 2 }, layers: [] };
  const cases: [string, string, string?][] = [
    ['not json', '{"schemaVersion": 2,'],
    ['array', '[]'],
    ['schema 1', JSON.stringify({ ...good, schemaVersion: 1 })],
    ['no config', JSON.stringify({ schemaVersion: 2, layers: [] })],
    ['layers not an array', JSON.stringify({ ...good, layers: {} })],
    ['bad layer digest', JSON.stringify({ ...good, layers: [{ mediaType: mediaTypes.ociLayer, digest: 'sha256:xyz', size: 1 }] })],
    ['negative size', JSON.stringify({ ...good, layers: [{ mediaType: mediaTypes.ociLayer, digest: config, size: -1 }] })],
    ['bad media type', JSON.stringify({ ...good, config: { ...good.config, mediaType: 'not a media type' } })],
    ['annotations not strings', JSON.stringify({ ...good, annotations: { a: 1 } })],
    ['mediaType disagrees with Content-Type', JSON.stringify({ ...good, mediaType: mediaTypes.ociIndex })],
    ['unknown type', JSON.stringify(good), 'application/json'],
    ['deeply nested', `{"schemaVersion":2,"x":${'['.repeat(5000)}${']'.repeat(5000)}}`],
  ];
  for (const [what, body, type] of cases) {
    const res = await putManifest(app, 'team/app', 'bad', body, type);
    t.equal(res.statusCode, 400, what);
    t.equal(errorCode(res), 'MANIFEST_INVALID', what);
  }
  t.equal((await app.inject({ method: 'GET', url: '/v2/team/app/manifests/bad' })).statusCode, 404);

  const badTag = await putManifest(app, 'team/app', '.bad', JSON.stringify(good));
  t.equal(badTag.statusCode, 400);
  t.equal(errorCode(badTag), 'TAG_INVALID');
});

t.test('PUT by digest must match the content', async (t) => {
  const { app } = await buildTestApp(t);
  const config = await pushBlob(app, 'team/app', Buffer.from('{}'));
  const body = JSON.stringify({ schemaVersion: 2, config: { mediaType: mediaTypes.ociConfig, digest: config, size: 2 }, layers: [] });
  const wrong = await putManifest(app, 'team/app', sha256('other'), body);
  t.equal(wrong.statusCode, 400);
  t.equal(errorCode(wrong), 'DIGEST_INVALID');
  const right = await putManifest(app, 'team/app', sha256(body), body);
  t.equal(right.statusCode, 201);
  const tags = await app.inject({ method: 'GET', url: '/v2/team/app/tags/list' });
  t.same(JSON.parse(tags.body).tags, [], 'a push by digest creates no tag');
});

t.test('the manifest size limit answers 413', async (t) => {
  const { app } = await buildTestApp(t, { 'limits.maxManifestBytes': 2048 });
  const config = await pushBlob(app, 'team/app', Buffer.from('{}'));
  const body = JSON.stringify({
    schemaVersion: 2,
    config: { mediaType: mediaTypes.ociConfig, digest: config, size: 2 },
    layers: [],
    annotations: { pad: 'x'.repeat(4096) },
  });
  const res = await putManifest(app, 'team/app', 'big', body);
  t.equal(res.statusCode, 413);
  t.equal(errorCode(res), 'MANIFEST_INVALID');
});

t.test('DELETE by tag removes only the tag; by digest removes manifest and tags', async (t) => {
  const { app } = await buildTestApp(t);
  const image = await pushImage(app, 'team/app', 'a');
  t.equal((await putManifest(app, 'team/app', 'b', image.manifest)).statusCode, 201);
  t.equal((await putManifest(app, 'team/app', 'c', image.manifest)).statusCode, 201);

  t.equal((await app.inject({ method: 'DELETE', url: '/v2/team/app/manifests/a' })).statusCode, 202);
  t.equal((await app.inject({ method: 'GET', url: '/v2/team/app/manifests/a' })).statusCode, 404);
  t.equal((await app.inject({ method: 'GET', url: `/v2/team/app/manifests/${image.digest}` })).statusCode, 200, 'manifest stays');
  t.equal((await app.inject({ method: 'GET', url: '/v2/team/app/manifests/b' })).statusCode, 200, 'other tags stay');

  t.equal((await app.inject({ method: 'DELETE', url: `/v2/team/app/manifests/${image.digest}` })).statusCode, 202);
  for (const reference of ['b', 'c', image.digest]) {
    const res = await app.inject({ method: 'GET', url: `/v2/team/app/manifests/${reference}` });
    t.equal(res.statusCode, 404, reference);
    t.equal(errorCode(res), 'MANIFEST_UNKNOWN');
  }
  t.equal((await app.inject({ method: 'DELETE', url: `/v2/team/app/manifests/${image.digest}` })).statusCode, 404);
});

t.test('a tag moves to the manifest pushed last', async (t) => {
  const { app } = await buildTestApp(t);
  const first = await pushImage(app, 'team/app', 'latest');
  const digestOf = async () => (await app.inject({ method: 'GET', url: '/v2/team/app/manifests/latest' })).headers['docker-content-digest'];
  t.equal(await digestOf(), first.digest);
  t.equal(await digestOf(), first.digest, 'read again (from memory)');
  const second = await pushImage(app, 'team/app', 'latest');
  t.equal(await digestOf(), second.digest);
});

t.test('a tag another process moves or deletes is served as it is now, not as remembered', async (t) => {
  const reader = await buildTestApp(t);
  const { app: writer } = await buildTestApp(t, {}, reader.dataDir);
  const read = (reference: string) => reader.app.inject({ method: 'GET', url: `/v2/team/app/manifests/${reference}` });
  const first = await pushImage(writer, 'team/app', 'latest');
  for (let i = 0; i < 2; i++) t.equal((await read('latest')).headers['docker-content-digest'], first.digest);
  const second = await pushImage(writer, 'team/app', 'latest');
  t.equal((await read('latest')).headers['docker-content-digest'], second.digest, 'moved: the new manifest at once');
  t.equal((await read(first.digest)).statusCode, 200);
  t.equal((await writer.inject({ method: 'DELETE', url: `/v2/team/app/manifests/${first.digest}` })).statusCode, 202);
  t.equal((await read(first.digest)).statusCode, 404, 'deleted: gone at once');
  t.equal((await writer.inject({ method: 'DELETE', url: '/v2/team/app/manifests/latest' })).statusCode, 202);
  t.equal((await read('latest')).statusCode, 404);
});

t.test('concurrent pushes to one tag end with the tag on one of them', async (t) => {
  const { app } = await buildTestApp(t);
  const config = await pushBlob(app, 'team/app', Buffer.from('{}'));
  const bodies = Array.from({ length: 10 }, (_, i) =>
    JSON.stringify({ schemaVersion: 2, config: { mediaType: mediaTypes.ociConfig, digest: config, size: 2 }, layers: [], annotations: { i: String(i) } }),
  );
  const results = await Promise.all(bodies.map((body) => putManifest(app, 'team/app', 'race', body)));
  t.same(results.map((r) => r.statusCode), Array(10).fill(201));
  const get = await app.inject({ method: 'GET', url: '/v2/team/app/manifests/race' });
  t.ok(bodies.includes(get.body), 'the tag points at a complete pushed manifest');
  for (const body of bodies) {
    t.equal((await app.inject({ method: 'HEAD', url: `/v2/team/app/manifests/${sha256(body)}` })).statusCode, 200);
  }
});

t.test('reads of unknown or malformed references', async (t) => {
  const { app } = await buildTestApp(t);
  const unknownTag = await app.inject({ method: 'GET', url: '/v2/team/app/manifests/nope' });
  t.equal(unknownTag.statusCode, 404);
  t.equal(errorCode(unknownTag), 'MANIFEST_UNKNOWN');
  t.equal((await app.inject({ method: 'GET', url: '/v2/team/app/manifests/.INVALID' })).statusCode, 404);
  const badDigest = await app.inject({ method: 'GET', url: '/v2/team/app/manifests/sha256:totallywrong' });
  t.equal(badDigest.statusCode, 400);
  t.equal(errorCode(badDigest), 'DIGEST_INVALID');
});
