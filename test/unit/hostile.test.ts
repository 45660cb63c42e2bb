import t from 'tap';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { errorCode, pushImage, sha256 } from '../helpers/oci.js';
import { buildTestApp } from '../helpers/server.js';

const digest = sha256('x');

t.test('crafted paths and parameters get a 4xx OCI error, never a 5xx', async (t) => {
  const { app, dataDir } = await buildTestApp(t);
  await pushImage(app, 'team/app', 'v1');
  const cases: [string, string][] = [
    ['GET', `/v2/../../etc/blobs/${digest}`],
    ['GET', `/v2/%2e%2e/%2e%2e/blobs/${digest}`],
    ['GET', `/v2/team/app/blobs/sha256:..%2F..%2Fchartroom.db`],
    ['GET', `/v2/team/app/blobs/sha256%3A${'a'.repeat(64)}`],
    ['GET', `/v2/${'a/'.repeat(200)}app/tags/list`],
    ['GET', `/v2/team/app/manifests/${'a'.repeat(129)}`],
    ['GET', '/v2/team/app/manifests/%00'],
    ['GET', '/v2/team/app/manifests/sha256:'],
    ['GET', '/v2/team/app/manifests/:'],
    ['PUT', '/v2/team/app/manifests/sha999:abc'],
    ['GET', '/v2/tëam/app/tags/list'],
    ['GET', '/v2/team/app/tags/list?n=1e3'],
    ['GET', '/v2/team/app/tags/list?n=99999999999999999999'],
    ['GET', `/v2/_catalog?n=${'9'.repeat(50)}`],
    ['POST', '/v2/team/app/blobs/uploads/?digest=sha256:zz'],
    ['POST', '/v2/team/app/blobs/uploads/?mount=sha256:zz&from=team/app'],
    ['POST', `/v2/team/app/blobs/uploads/?mount=${digest}&from=${'x/'.repeat(300)}`],
    ['POST', '/v2/team/app/blobs/uploads/some-id'],
    ['PATCH', '/v2/team/app/blobs/uploads/'],
    ['PUT', '/v2/team/app/blobs/uploads/../../../chartroom.db?digest=' + digest],
    ['DELETE', '/v2/team/app/blobs/uploads/00000000-0000-0000-0000-000000000000'],
    ['GET', '/v2/team/app/referrers/not-a-digest'],
    ['DELETE', '/v2/_catalog'],
    ['PATCH', '/v2/'],
    ['GET', '/v2'],
    ['GET', '/nowhere'],
    ['GET', '/ui/..%2F..%2Fpackage.json'],
    ['GET', '/ui/%2e%2e/%2e%2e/package.json'],
    ['GET', '/ui/assets/../../../package.json'],
  ];
  for (const [method, url] of cases) {
    const res = await app.inject({ method: method as 'GET', url, payload: method === 'GET' || method === 'DELETE' ? undefined : 'x' });
    t.ok(res.statusCode >= 400 && res.statusCode < 500, `${method} ${url.slice(0, 60)} → ${res.statusCode}`);
    t.ok(errorCode(res), 'with an OCI error body');
  }
  t.same(readdirSync(join(dataDir, 'uploads')), [], 'no upload left behind by refused requests');
  const repeated = await app.inject({ method: 'GET', url: '/v2/team/app/tags/list?n=1&n=2&last=a&last=b' });
  t.same(JSON.parse(repeated.body).tags, ['v1'], 'a repeated parameter counts by its first value (n=1, last=a)');
  const still = await app.inject({ method: 'GET', url: '/v2/team/app/manifests/v1' });
  t.equal(still.statusCode, 200, 'the registry keeps serving');
});

t.test('crafted headers', async (t) => {
  const { app } = await buildTestApp(t);
  const image = await pushImage(app, 'team/app', 'v1');
  const blob = sha256(image.config);
  for (const range of ['bytes=99999999999999999999-', 'bytes=5-2', 'bytes=--1', 'bytes=0-1,5-6', 'bytes=-0', 'bytes=', '']) {
    const res = await app.inject({ method: 'GET', url: `/v2/team/app/blobs/${blob}`, headers: { range } });
    t.ok([200, 206, 416].includes(res.statusCode), `Range ${JSON.stringify(range)} → ${res.statusCode}`);
  }
  const session = await app.inject({ method: 'POST', url: '/v2/team/app/blobs/uploads/' });
  const location = session.headers.location as string;
  for (const contentRange of ['bytes */*', '10-5', 'abc', '-1-5', `0-${'9'.repeat(30)}`]) {
    const res = await app.inject({ method: 'PATCH', url: location, payload: 'abc', headers: { 'content-range': contentRange } });
    t.equal(res.statusCode, 416, `Content-Range ${contentRange}`);
  }
  const status = await app.inject({ method: 'GET', url: location });
  t.equal(status.headers.range, '0-0', 'refused chunks left nothing');
  const manifest = await app.inject({
    method: 'PUT',
    url: '/v2/team/app/manifests/v2',
    payload: image.manifest,
    headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json; charset=utf-8' },
  });
  t.equal(manifest.statusCode, 201, 'media type parameters are tolerated');
});

t.test('an empty blob can be pushed and pulled', async (t) => {
  const { app } = await buildTestApp(t);
  const empty = sha256('');
  const put = await app.inject({ method: 'POST', url: `/v2/team/app/blobs/uploads/?digest=${empty}` });
  t.equal(put.statusCode, 201);
  const get = await app.inject({ method: 'GET', url: `/v2/team/app/blobs/${empty}` });
  t.equal(get.statusCode, 200);
  t.equal(get.headers['content-length'], '0');
  const ranged = await app.inject({ method: 'GET', url: `/v2/team/app/blobs/${empty}`, headers: { range: 'bytes=0-' } });
  t.equal(ranged.statusCode, 200);
});
