import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import type { FastifyInstance } from 'fastify';
import { errorCode, pushBlob, sha256 } from '../helpers/oci.js';
import { buildTestApp, tempDataDir } from '../helpers/server.js';

async function startSession(app: FastifyInstance, repository: string): Promise<string> {
  const res = await app.inject({ method: 'POST', url: `/v2/${repository}/blobs/uploads/` });
  if (res.statusCode !== 202) throw new Error(`POST failed: ${res.statusCode} ${res.body}`);
  return res.headers.location as string;
}

function uploadFiles(dataDir: string): string[] {
  return readdirSync(join(dataDir, 'uploads'));
}

t.test('POST opens a session with a relative Location, its id and Range', async (t) => {
  const { app } = await buildTestApp(t);
  const res = await app.inject({ method: 'POST', url: '/v2/team/app/blobs/uploads/' });
  t.equal(res.statusCode, 202);
  t.match(res.headers.location, /^\/v2\/team\/app\/blobs\/uploads\/[0-9a-f-]{36}$/);
  t.equal(res.headers['docker-upload-uuid'], (res.headers.location as string).split('/').pop());
  t.equal(res.headers.range, '0-0');
});

t.test('monolithic upload: POST ?digest= with the body', async (t) => {
  const { app, dataDir } = await buildTestApp(t);
  const bytes = randomBytes(4096);
  const digest = sha256(bytes);
  const res = await app.inject({ method: 'POST', url: `/v2/team/app/blobs/uploads/?digest=${digest}`, payload: bytes });
  t.equal(res.statusCode, 201);
  t.equal(res.headers.location, `/v2/team/app/blobs/${digest}`);
  t.equal(res.headers['docker-content-digest'], digest);
  t.same(uploadFiles(dataDir), [], 'no upload left behind');
});

t.test('POST then a single PUT ?digest= with the body (what helm does)', async (t) => {
  const { app } = await buildTestApp(t);
  const bytes = randomBytes(2048);
  const location = await startSession(app, 'team/app');
  const put = await app.inject({ method: 'PUT', url: `${location}?digest=${sha256(bytes)}`, payload: bytes, headers: { 'content-type': 'application/octet-stream' } });
  t.equal(put.statusCode, 201);
  t.equal(put.headers['docker-content-digest'], sha256(bytes));
  const get = await app.inject({ method: 'GET', url: `/v2/team/app/blobs/${sha256(bytes)}` });
  t.ok(get.rawPayload.equals(bytes));
});

t.test('chunked upload: PATCHes with Content-Range, status, then PUT', async (t) => {
  const { app } = await buildTestApp(t);
  const bytes = randomBytes(3000);
  const location = await startSession(app, 'team/app');
  const first = await app.inject({
    method: 'PATCH',
    url: location,
    payload: bytes.subarray(0, 1000),
    headers: { 'content-range': '0-999', 'content-type': 'application/octet-stream' },
  });
  t.equal(first.statusCode, 202);
  t.equal(first.headers.range, '0-999');
  t.equal(first.headers.location, location);

  const status = await app.inject({ method: 'GET', url: location });
  t.equal(status.statusCode, 204);
  t.equal(status.headers.range, '0-999');

  const outOfOrder = await app.inject({ method: 'PATCH', url: location, payload: bytes.subarray(2000), headers: { 'content-range': '2000-2999' } });
  t.equal(outOfOrder.statusCode, 416, 'a chunk that does not start at the offset');
  const replay = await app.inject({ method: 'PATCH', url: location, payload: bytes.subarray(0, 1000), headers: { 'content-range': '0-999' } });
  t.equal(replay.statusCode, 416, 'a chunk sent twice');
  const lying = await app.inject({ method: 'PATCH', url: location, payload: bytes.subarray(1000, 1500), headers: { 'content-range': '1000-1999' } });
  t.equal(lying.statusCode, 416, 'Content-Range and body length disagree');

  // A streamed chunk carries no Content-Range: it is appended where the upload stands.
  const second = await app.inject({ method: 'PATCH', url: location, payload: bytes.subarray(1000, 2000) });
  t.equal(second.statusCode, 202);
  t.equal(second.headers.range, '0-1999');

  const put = await app.inject({ method: 'PUT', url: `${location}?digest=${sha256(bytes)}`, payload: bytes.subarray(2000) });
  t.equal(put.statusCode, 201, 'the PUT carries the last chunk');
  const get = await app.inject({ method: 'GET', url: `/v2/team/app/blobs/${sha256(bytes)}` });
  t.ok(get.rawPayload.equals(bytes), 'the blob is the chunks in order');

  const finished = await app.inject({ method: 'GET', url: location });
  t.equal(finished.statusCode, 404, 'the session is gone once the blob exists');
  t.equal(errorCode(finished), 'BLOB_UPLOAD_UNKNOWN');
});

t.test('a wrong digest is DIGEST_INVALID and stores nothing', async (t) => {
  const { app, dataDir } = await buildTestApp(t);
  const bytes = Buffer.from('the real content');
  const wrong = sha256('something else');
  const location = await startSession(app, 'team/app');
  const put = await app.inject({ method: 'PUT', url: `${location}?digest=${wrong}`, payload: bytes });
  t.equal(put.statusCode, 400);
  t.equal(errorCode(put), 'DIGEST_INVALID');
  t.equal((await app.inject({ method: 'HEAD', url: `/v2/team/app/blobs/${wrong}` })).statusCode, 404);
  t.equal((await app.inject({ method: 'HEAD', url: `/v2/team/app/blobs/${sha256(bytes)}` })).statusCode, 404);
  t.same(uploadFiles(dataDir), [], 'upload discarded');

  const mono = await app.inject({ method: 'POST', url: `/v2/team/app/blobs/uploads/?digest=${wrong}`, payload: bytes });
  t.equal(mono.statusCode, 400);
  t.equal(errorCode(mono), 'DIGEST_INVALID');
  t.same(uploadFiles(dataDir), []);

  const missingDigest = await app.inject({ method: 'PUT', url: await startSession(app, 'team/app'), payload: bytes });
  t.equal(missingDigest.statusCode, 400);
  t.equal(errorCode(missingDigest), 'DIGEST_INVALID');
  const badDigest = await app.inject({ method: 'POST', url: '/v2/team/app/blobs/uploads/?digest=sha256:nope', payload: bytes });
  t.equal(errorCode(badDigest), 'DIGEST_INVALID');
});

t.test('sha512 digests are accepted', async (t) => {
  const { app } = await buildTestApp(t);
  const bytes = randomBytes(100);
  const { createHash } = await import('node:crypto');
  const digest = `sha512:${createHash('sha512').update(bytes).digest('hex')}`;
  const res = await app.inject({ method: 'POST', url: `/v2/team/app/blobs/uploads/?digest=${digest}`, payload: bytes });
  t.equal(res.statusCode, 201);
  const get = await app.inject({ method: 'GET', url: `/v2/team/app/blobs/${digest}` });
  t.ok(get.rawPayload.equals(bytes));
});

t.test('sessions belong to their repository and can be cancelled', async (t) => {
  const { app, dataDir } = await buildTestApp(t);
  const location = await startSession(app, 'team/app');
  const id = location.split('/').pop() as string;
  const elsewhere = await app.inject({ method: 'GET', url: `/v2/team/other/blobs/uploads/${id}` });
  t.equal(elsewhere.statusCode, 404);
  t.equal(errorCode(elsewhere), 'BLOB_UPLOAD_UNKNOWN');

  const garbageId = await app.inject({ method: 'PATCH', url: '/v2/team/app/blobs/uploads/..%2F..%2Fchartroom.db', payload: 'x' });
  t.equal(garbageId.statusCode, 404);
  t.equal(errorCode(garbageId), 'BLOB_UPLOAD_UNKNOWN');

  const cancel = await app.inject({ method: 'DELETE', url: location });
  t.equal(cancel.statusCode, 204);
  t.same(uploadFiles(dataDir), []);
  t.equal((await app.inject({ method: 'GET', url: location })).statusCode, 404);
  t.equal((await app.inject({ method: 'DELETE', url: location })).statusCode, 404);
});

t.test('cross-repository mount, and a session when the blob cannot be mounted', async (t) => {
  const { app } = await buildTestApp(t);
  const digest = await pushBlob(app, 'team/source', Buffer.from('mount me'));
  const mount = await app.inject({ method: 'POST', url: `/v2/team/target/blobs/uploads/?mount=${digest}&from=team/source` });
  t.equal(mount.statusCode, 201);
  t.equal(mount.headers.location, `/v2/team/target/blobs/${digest}`);
  t.equal(mount.headers['docker-content-digest'], digest);
  t.equal((await app.inject({ method: 'HEAD', url: `/v2/team/target/blobs/${digest}` })).statusCode, 200);

  const unknown = await app.inject({ method: 'POST', url: `/v2/team/target/blobs/uploads/?mount=${sha256('absent')}&from=team/source` });
  t.equal(unknown.statusCode, 202, 'falls back to an upload session');
  t.match(unknown.headers.location, /^\/v2\/team\/target\/blobs\/uploads\//);

  const noFrom = await app.inject({ method: 'POST', url: `/v2/team/third/blobs/uploads/?mount=${digest}` });
  t.equal(noFrom.statusCode, 202, 'no implicit mount without from');

  const badFrom = await app.inject({ method: 'POST', url: `/v2/team/target/blobs/uploads/?mount=${digest}&from=../x` });
  t.equal(badFrom.statusCode, 400);
  t.equal(errorCode(badFrom), 'NAME_INVALID');
});

t.test('sessions survive a restart of the server', async (t) => {
  const dataDir = tempDataDir(t);
  const bytes = randomBytes(5000);
  const first = await buildTestApp(t, {}, dataDir);
  const location = await startSession(first.app, 'team/app');
  await first.app.inject({ method: 'PATCH', url: location, payload: bytes.subarray(0, 3000), headers: { 'content-range': '0-2999' } });
  await first.app.close();

  const second = await buildTestApp(t, {}, dataDir);
  const status = await second.app.inject({ method: 'GET', url: location });
  t.equal(status.statusCode, 204);
  t.equal(status.headers.range, '0-2999');
  const put = await second.app.inject({ method: 'PUT', url: `${location}?digest=${sha256(bytes)}`, payload: bytes.subarray(3000) });
  t.equal(put.statusCode, 201, 'the hash is rebuilt from the partial file');
  const get = await second.app.inject({ method: 'GET', url: `/v2/team/app/blobs/${sha256(bytes)}` });
  t.ok(get.rawPayload.equals(bytes));
});

t.test('stale sessions are removed after the configured age', async (t) => {
  const dataDir = tempDataDir(t);
  const first = await buildTestApp(t, {}, dataDir);
  const stale = await startSession(first.app, 'team/app');
  await first.app.close();
  await new Promise((resolve) => setTimeout(resolve, 1100));
  const second = await buildTestApp(t, { 'uploads.staleAfterSeconds': 1 }, dataDir);
  t.equal((await second.app.inject({ method: 'GET', url: stale })).statusCode, 404, 'swept at start');
  t.same(uploadFiles(dataDir), []);
});

t.test('two clients pushing the same blob at once both succeed', async (t) => {
  const { app } = await buildTestApp(t);
  const bytes = randomBytes(256 * 1024);
  const digest = sha256(bytes);
  const results = await Promise.all(
    Array.from({ length: 8 }, (_, i) =>
      app.inject({ method: 'POST', url: `/v2/team/app${i % 2}/blobs/uploads/?digest=${digest}`, payload: bytes }),
    ),
  );
  t.same(results.map((r) => r.statusCode), Array(8).fill(201));
  for (const repo of ['team/app0', 'team/app1']) {
    const get = await app.inject({ method: 'GET', url: `/v2/${repo}/blobs/${digest}` });
    t.ok(get.rawPayload.equals(bytes), repo);
  }
});

t.test('a blob over the configured limit is refused with 413', async (t) => {
  const { app, dataDir } = await buildTestApp(t, { 'limits.maxBlobBytes': 1000 });
  const bytes = randomBytes(1001);
  const res = await app.inject({ method: 'POST', url: `/v2/team/app/blobs/uploads/?digest=${sha256(bytes)}`, payload: bytes });
  t.equal(res.statusCode, 413);
  t.equal(errorCode(res), 'SIZE_INVALID');
  t.same(uploadFiles(dataDir), []);
});
