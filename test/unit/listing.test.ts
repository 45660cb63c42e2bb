import t from 'tap';
import { errorCode, mediaTypes, pushBlob, pushImage, putManifest, sha256 } from '../helpers/oci.js';
import { buildTestApp } from '../helpers/server.js';

t.test('tags list: sorted, paged with n/last and a Link header', async (t) => {
  const { app } = await buildTestApp(t);
  const image = await pushImage(app, 'team/app', 'a');
  for (const tag of ['d', 'b', 'e', 'c']) await putManifest(app, 'team/app', tag, image.manifest);

  const all = await app.inject({ method: 'GET', url: '/v2/team/app/tags/list' });
  t.same(JSON.parse(all.body), { name: 'team/app', tags: ['a', 'b', 'c', 'd', 'e'] });
  t.notOk(all.headers.link);

  const first = await app.inject({ method: 'GET', url: '/v2/team/app/tags/list?n=2' });
  t.same(JSON.parse(first.body).tags, ['a', 'b']);
  t.equal(first.headers.link, '</v2/team/app/tags/list?n=2&last=b>; rel="next"');

  const next = await app.inject({ method: 'GET', url: '/v2/team/app/tags/list?n=2&last=b' });
  t.same(JSON.parse(next.body).tags, ['c', 'd']);
  const last = await app.inject({ method: 'GET', url: '/v2/team/app/tags/list?n=2&last=d' });
  t.same(JSON.parse(last.body).tags, ['e']);
  t.notOk(last.headers.link, 'no Link on the last page');

  const exact = await app.inject({ method: 'GET', url: '/v2/team/app/tags/list?n=5' });
  t.notOk(exact.headers.link, 'no Link when the page holds the rest exactly');
  const zero = await app.inject({ method: 'GET', url: '/v2/team/app/tags/list?n=0' });
  t.same(JSON.parse(zero.body).tags, []);
  const afterOnly = await app.inject({ method: 'GET', url: '/v2/team/app/tags/list?last=c' });
  t.same(JSON.parse(afterOnly.body).tags, ['d', 'e']);

  const bad = await app.inject({ method: 'GET', url: '/v2/team/app/tags/list?n=-1' });
  t.equal(bad.statusCode, 400);
  t.equal(errorCode(bad), 'PAGINATION_NUMBER_INVALID');

  const unknown = await app.inject({ method: 'GET', url: '/v2/nobody/here/tags/list' });
  t.equal(unknown.statusCode, 404);
  t.equal(errorCode(unknown), 'NAME_UNKNOWN');
});

t.test('catalog lists repositories with content, paged', async (t) => {
  const { app } = await buildTestApp(t);
  for (const repo of ['b/app', 'a/app', 'c/app']) await pushImage(app, repo, 'v1');
  await pushBlob(app, 'only/blobs', Buffer.from('x'));
  const all = await app.inject({ method: 'GET', url: '/v2/_catalog' });
  t.same(JSON.parse(all.body), { repositories: ['a/app', 'b/app', 'c/app'] });
  const page = await app.inject({ method: 'GET', url: '/v2/_catalog?n=1&last=a/app' });
  t.same(JSON.parse(page.body).repositories, ['b/app']);
  t.equal(page.headers.link, '</v2/_catalog?n=1&last=b%2Fapp>; rel="next"');
});

t.test('referrers: manifests whose subject is the digest, filtered by artifactType', async (t) => {
  const { app } = await buildTestApp(t);
  const subject = await pushImage(app, 'team/app', 'v1');
  const subjectDescriptor = { mediaType: mediaTypes.ociManifest, digest: subject.digest, size: subject.manifest.length };

  const emptyConfig = Buffer.from('{}');
  await pushBlob(app, 'team/app', emptyConfig);
  const signature = JSON.stringify({
    schemaVersion: 2,
    mediaType: mediaTypes.ociManifest,
    artifactType: 'application/vnd.example.signature',
    config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: sha256(emptyConfig), size: 2 },
    layers: [],
    subject: subjectDescriptor,
    annotations: { 'org.example.signed-by': 'ci' },
  });
  const sbomConfig = Buffer.from('{"sbom":true}');
  await pushBlob(app, 'team/app', sbomConfig);
  const sbom = JSON.stringify({
    schemaVersion: 2,
    mediaType: mediaTypes.ociManifest,
    config: { mediaType: 'application/vnd.example.sbom', digest: sha256(sbomConfig), size: sbomConfig.length },
    layers: [],
    subject: subjectDescriptor,
  });
  const put = await putManifest(app, 'team/app', sha256(signature), signature);
  t.equal(put.statusCode, 201);
  t.equal(put.headers['oci-subject'], subject.digest);
  t.equal((await putManifest(app, 'team/app', sha256(sbom), sbom)).statusCode, 201);

  const res = await app.inject({ method: 'GET', url: `/v2/team/app/referrers/${subject.digest}` });
  t.equal(res.statusCode, 200);
  t.equal(res.headers['content-type'], mediaTypes.ociIndex);
  const index = JSON.parse(res.body);
  t.equal(index.schemaVersion, 2);
  t.equal(index.mediaType, mediaTypes.ociIndex);
  t.same(index.manifests, [
    {
      mediaType: mediaTypes.ociManifest,
      digest: sha256(signature),
      size: Buffer.byteLength(signature),
      artifactType: 'application/vnd.example.signature',
      annotations: { 'org.example.signed-by': 'ci' },
    },
    { mediaType: mediaTypes.ociManifest, digest: sha256(sbom), size: Buffer.byteLength(sbom), artifactType: 'application/vnd.example.sbom' },
  ]);

  const filtered = await app.inject({ method: 'GET', url: `/v2/team/app/referrers/${subject.digest}?artifactType=application/vnd.example.sbom` });
  t.equal(filtered.headers['oci-filters-applied'], 'artifactType');
  t.same(JSON.parse(filtered.body).manifests.map((m: { digest: string }) => m.digest), [sha256(sbom)]);

  const none = await app.inject({ method: 'GET', url: `/v2/team/app/referrers/${sha256('nothing refers to me')}` });
  t.equal(none.statusCode, 200);
  t.same(JSON.parse(none.body).manifests, []);

  const bad = await app.inject({ method: 'GET', url: '/v2/team/app/referrers/sha256:bad' });
  t.equal(bad.statusCode, 400);
  t.equal(errorCode(bad), 'DIGEST_INVALID');

  await app.inject({ method: 'DELETE', url: `/v2/team/app/manifests/${sha256(signature)}` });
  const after = await app.inject({ method: 'GET', url: `/v2/team/app/referrers/${subject.digest}` });
  t.same(JSON.parse(after.body).manifests.map((m: { digest: string }) => m.digest), [sha256(sbom)], 'a deleted referrer is gone');
});

t.test('the tag list follows pushes and deletes at once', async (t) => {
  const { app } = await buildTestApp(t);
  const image = await pushImage(app, 'team/app', 'a');
  const list = async (query = ''): Promise<string[]> =>
    JSON.parse((await app.inject({ method: 'GET', url: `/v2/team/app/tags/list${query}` })).body).tags;
  t.same(await list(), ['a']);
  await putManifest(app, 'team/app', 'b', image.manifest);
  t.same(await list(), ['a', 'b'], 'a new tag shows up');
  t.same(await list('?n=1&last=a'), ['b']);
  await app.inject({ method: 'DELETE', url: '/v2/team/app/manifests/a' });
  t.same(await list(), ['b'], 'a deleted tag goes');
  await app.inject({ method: 'DELETE', url: `/v2/team/app/manifests/${image.digest}` });
  t.same(await list(), [], 'deleting the manifest drops its tags');
});
