import { randomBytes } from 'node:crypto';
import t from 'tap';
import { errorCode, pushBlob, sha256 } from '../helpers/oci.js';
import { buildTestApp } from '../helpers/server.js';

t.test('GET /v2/ answers with the API version header', async (t) => {
  const { app } = await buildTestApp(t);
  const res = await app.inject({ method: 'GET', url: '/v2/' });
  t.equal(res.statusCode, 200);
  t.equal(res.headers['docker-distribution-api-version'], 'registry/2.0');
  t.equal((await app.inject({ method: 'HEAD', url: '/v2/' })).statusCode, 200);
});

t.test('blob GET and HEAD return the bytes with digest, length and ranges', async (t) => {
  const { app } = await buildTestApp(t);
  const bytes = randomBytes(10_000);
  const digest = await pushBlob(app, 'team/app', bytes);

  const get = await app.inject({ method: 'GET', url: `/v2/team/app/blobs/${digest}` });
  t.equal(get.statusCode, 200);
  t.ok(get.rawPayload.equals(bytes), 'same bytes');
  t.equal(get.headers['docker-content-digest'], digest);
  t.equal(get.headers['content-length'], String(bytes.length));
  t.equal(get.headers['accept-ranges'], 'bytes');

  const head = await app.inject({ method: 'HEAD', url: `/v2/team/app/blobs/${digest}` });
  t.equal(head.statusCode, 200);
  t.equal(head.headers['content-length'], String(bytes.length));
  t.equal(head.headers['docker-content-digest'], digest);
  t.equal(head.body, '');

  const range = await app.inject({ method: 'GET', url: `/v2/team/app/blobs/${digest}`, headers: { range: 'bytes=100-199' } });
  t.equal(range.statusCode, 206);
  t.equal(range.headers['content-range'], `bytes 100-199/${bytes.length}`);
  t.ok(range.rawPayload.equals(bytes.subarray(100, 200)));

  const open = await app.inject({ method: 'GET', url: `/v2/team/app/blobs/${digest}`, headers: { range: 'bytes=9990-' } });
  t.equal(open.statusCode, 206);
  t.ok(open.rawPayload.equals(bytes.subarray(9990)));

  const suffix = await app.inject({ method: 'GET', url: `/v2/team/app/blobs/${digest}`, headers: { range: 'bytes=-5' } });
  t.equal(suffix.statusCode, 206);
  t.ok(suffix.rawPayload.equals(bytes.subarray(bytes.length - 5)));

  const beyond = await app.inject({ method: 'GET', url: `/v2/team/app/blobs/${digest}`, headers: { range: 'bytes=10000-' } });
  t.equal(beyond.statusCode, 416);
  t.equal(beyond.headers['content-range'], `bytes */${bytes.length}`);

  const garbage = await app.inject({ method: 'GET', url: `/v2/team/app/blobs/${digest}`, headers: { range: 'lines=1-2' } });
  t.equal(garbage.statusCode, 200, 'a Range we do not understand is ignored');
});

t.test('a blob is visible only in the repositories that link it', async (t) => {
  const { app } = await buildTestApp(t);
  const digest = await pushBlob(app, 'team/app', Buffer.from('shared bytes'));
  const other = await app.inject({ method: 'GET', url: `/v2/other/app/blobs/${digest}` });
  t.equal(other.statusCode, 404);
  t.equal(errorCode(other), 'BLOB_UNKNOWN');
});

t.test('unknown and malformed blobs', async (t) => {
  const { app } = await buildTestApp(t);
  const unknown = await app.inject({ method: 'GET', url: `/v2/team/app/blobs/${sha256('nothing')}` });
  t.equal(unknown.statusCode, 404);
  t.equal(errorCode(unknown), 'BLOB_UNKNOWN');
  t.same(Object.keys(JSON.parse(unknown.body).errors[0]).sort(), ['code', 'detail', 'message']);

  const head = await app.inject({ method: 'HEAD', url: `/v2/team/app/blobs/${sha256('nothing')}` });
  t.equal(head.statusCode, 404);

  for (const digest of ['sha256:abc', 'md5:0123', 'sha256:../../etc/passwd', `sha256:${'Z'.repeat(64)}`]) {
    const res = await app.inject({ method: 'GET', url: `/v2/team/app/blobs/${encodeURIComponent(digest)}` });
    t.equal(res.statusCode, 400, digest);
    t.equal(errorCode(res), 'DIGEST_INVALID', digest);
  }
  const badName = await app.inject({ method: 'GET', url: `/v2/Team/App/blobs/${sha256('x')}` });
  t.equal(badName.statusCode, 400);
  t.equal(errorCode(badName), 'NAME_INVALID');
});

t.test('DELETE unlinks a blob from one repository', async (t) => {
  const { app } = await buildTestApp(t);
  const bytes = Buffer.from('to be deleted');
  const digest = await pushBlob(app, 'team/a', bytes);
  await pushBlob(app, 'team/b', bytes);
  const del = await app.inject({ method: 'DELETE', url: `/v2/team/a/blobs/${digest}` });
  t.equal(del.statusCode, 202);
  t.equal((await app.inject({ method: 'GET', url: `/v2/team/a/blobs/${digest}` })).statusCode, 404);
  t.equal((await app.inject({ method: 'GET', url: `/v2/team/b/blobs/${digest}` })).statusCode, 200, 'still in the other repository');
  const again = await app.inject({ method: 'DELETE', url: `/v2/team/a/blobs/${digest}` });
  t.equal(again.statusCode, 404);
  t.equal(errorCode(again), 'BLOB_UNKNOWN');
});

t.test('routes and methods the API does not have', async (t) => {
  const { app } = await buildTestApp(t);
  const wrongMethod = await app.inject({ method: 'PUT', url: `/v2/team/app/blobs/${sha256('x')}` });
  t.equal(wrongMethod.statusCode, 405);
  t.equal(errorCode(wrongMethod), 'UNSUPPORTED');
  const nowhere = await app.inject({ method: 'GET', url: '/v2/team/app/nothing' });
  t.equal(nowhere.statusCode, 404);
  t.ok(errorCode(nowhere), 'an OCI error body');
});
