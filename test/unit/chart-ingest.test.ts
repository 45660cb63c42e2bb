import { gzipSync } from 'node:zlib';
import t from 'tap';
import { chartTgz, pushChart, tar } from '../helpers/charts.js';
import { errorCode, sha256 } from '../helpers/oci.js';
import { buildTestApp } from '../helpers/server.js';

function message(res: { body: string }): string {
  return (JSON.parse(res.body) as { errors: { message: string }[] }).errors[0]?.message ?? '';
}

t.test('a valid chart is accepted; broken ones get MANIFEST_INVALID saying why', async (t) => {
  const { app } = await buildTestApp(t);
  const ok = await pushChart(app, 'team/app', chartTgz({ name: 'app', version: '1.4.0' }), '1.4.0');
  t.equal(ok.res.statusCode, 201);

  const cases: [string, Buffer, string, RegExp][] = [
    ['not gzip', Buffer.from('plain text, not a chart'), '1.0.0', /not a valid gzip archive/],
    ['no Chart.yaml', gzipSync(tar([{ path: 'app/values.yaml', content: 'a: 1' }])), '1.0.0', /has no app\/Chart.yaml/],
    ['traversal', gzipSync(tar([{ path: 'app/Chart.yaml', content: 'x' }, { path: 'app/../../x', content: 'x' }])), '1.0.0', /unsafe path/],
    ['bad Chart.yaml', chartTgz({ chartYaml: 'apiVersion: v2\nname: app\n' }), '1.0.0', /Chart.yaml version is required/],
    ['wrong name', chartTgz({ name: 'other', version: '1.0.0' }), '1.0.0', /chart name "other" does not match the repository/],
    ['wrong tag', chartTgz({ name: 'app', version: '1.0.0' }), '2.0.0', /chart version 1.0.0 does not match tag "2.0.0"/],
  ];
  for (const [what, tgz, tag, expected] of cases) {
    const { res } = await pushChart(app, 'team/app', tgz, tag);
    t.equal(res.statusCode, 400, what);
    t.equal(errorCode(res), 'MANIFEST_INVALID', what);
    t.match(message(res), expected, what);
  }
  const tags = JSON.parse((await app.inject({ method: 'GET', url: '/v2/team/app/tags/list' })).body).tags;
  t.same(tags, ['1.4.0'], 'nothing refused was stored');
});

t.test('a version with build metadata is pushed under its _ tag', async (t) => {
  const { app } = await buildTestApp(t);
  const { res } = await pushChart(app, 'team/app', chartTgz({ version: '1.0.0+build.1' }), '1.0.0+build.1');
  t.equal(res.statusCode, 201);
  t.equal((await app.inject({ method: 'HEAD', url: '/v2/team/app/manifests/1.0.0_build.1' })).statusCode, 200);
});

t.test('chart versions are immutable; an identical re-push is fine', async (t) => {
  const { app } = await buildTestApp(t);
  const first = await pushChart(app, 'team/app', chartTgz({ version: '1.0.0' }), '1.0.0');
  t.equal(first.res.statusCode, 201);
  const again = await pushChart(app, 'team/app', chartTgz({ version: '1.0.0' }), '1.0.0');
  t.equal(again.res.statusCode, 201, 'the same bytes again');

  const changed = await pushChart(app, 'team/app', chartTgz({ version: '1.0.0', readme: '# changed\n' }), '1.0.0');
  t.equal(changed.res.statusCode, 409);
  t.equal(errorCode(changed.res), 'DENIED');
  t.match(message(changed.res), /chart version and already holds other content/);
  const get = await app.inject({ method: 'GET', url: '/v2/team/app/manifests/1.0.0' });
  t.equal(get.headers['docker-content-digest'], sha256(first.manifest), 'the tag still points at the first push');

  const byDigest = await app.inject({
    method: 'PUT',
    url: `/v2/team/app/manifests/${sha256(changed.manifest)}`,
    payload: changed.manifest,
    headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
  });
  t.equal(byDigest.statusCode, 201, 'an untagged push by digest is not a version change');
});

t.test('overwrite and validation can be switched off', async (t) => {
  const { app } = await buildTestApp(t, { 'charts.allowOverwrite': true, 'charts.validate': false });
  t.equal((await pushChart(app, 'team/app', chartTgz({ version: '1.0.0' }), '1.0.0')).res.statusCode, 201);
  const changed = await pushChart(app, 'team/app', chartTgz({ version: '1.0.0', readme: '# changed\n' }), '1.0.0');
  t.equal(changed.res.statusCode, 201, 'overwrite allowed');
  const get = await app.inject({ method: 'GET', url: '/v2/team/app/manifests/1.0.0' });
  t.equal(get.headers['docker-content-digest'], sha256(changed.manifest));
  t.equal((await pushChart(app, 'team/app', chartTgz({ name: 'other', version: '3.0.0' }), 'anything')).res.statusCode, 201, 'no name/tag check');
  t.equal((await pushChart(app, 'team/app', Buffer.from('not a chart'), '4.0.0')).res.statusCode, 400, 'a broken archive is still refused');
});

t.test('images are not charts: their tags stay mutable', async (t) => {
  const { app } = await buildTestApp(t);
  const { pushImage } = await import('../helpers/oci.js');
  await pushImage(app, 'team/img', 'latest');
  const second = await pushImage(app, 'team/img', 'latest');
  const get = await app.inject({ method: 'GET', url: '/v2/team/img/manifests/latest' });
  t.equal(get.headers['docker-content-digest'], second.digest);
});
