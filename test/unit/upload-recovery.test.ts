// What a crash (or a request that died) can leave in an upload, and how a session recovers from it.
import { randomBytes } from 'node:crypto';
import { appendFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import t, { type Test } from 'tap';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../../src/config/index.js';
import { createSqliteMetadata } from '../../src/db/sqlite-metadata.js';
import { createLogger } from '../../src/logger.js';
import { createUploads } from '../../src/registry/uploads.js';
import { createDiskBlobStore } from '../../src/storage/disk-blob-store.js';
import { sha256 } from '../helpers/oci.js';
import { buildTestApp, tempDataDir } from '../helpers/server.js';
import { noChangeListener } from '../../src/registry/changes.js';

async function sessionWith(app: FastifyInstance, bytes: Buffer): Promise<string> {
  const post = await app.inject({ method: 'POST', url: '/v2/team/app/blobs/uploads/' });
  const location = post.headers.location as string;
  const patch = await app.inject({ method: 'PATCH', url: location, payload: bytes, headers: { 'content-range': `0-${bytes.length - 1}` } });
  if (patch.statusCode !== 202) throw new Error(`PATCH → ${patch.statusCode}`);
  return location;
}

/** A session holding `bytes`, on a server that is then stopped. */
async function stoppedSession(t: Test, bytes: Buffer): Promise<{ dataDir: string; location: string; id: string }> {
  const dataDir = tempDataDir(t);
  const first = await buildTestApp(t, {}, dataDir);
  const location = await sessionWith(first.app, bytes);
  await first.app.close();
  return { dataDir, location, id: location.split('/').pop() as string };
}

// Found by reliability/crash.ts: the commit moved the upload's file into place before the
// database recorded the blob, so a kill in between left a session at offset N with no bytes:
// its PUT was refused as DIGEST_INVALID, a PATCH as BLOB_UPLOAD_UNKNOWN.
t.test('a crash between storing a blob and recording it leaves a session that can be completed', async (t) => {
  const bytes = randomBytes(20_000);
  const { dataDir, location, id } = await stoppedSession(t, bytes);
  // The first half of a commit, as the crashed process did it: the blob goes into place, no row yet.
  const store = await createDiskBlobStore(dataDir);
  await store.commit(id, sha256(bytes), bytes.length);

  const second = await buildTestApp(t, {}, dataDir);
  const status = await second.app.inject({ method: 'GET', url: location });
  t.equal(status.headers.range, `0-${bytes.length - 1}`, 'the session still holds every acknowledged byte');
  const put = await second.app.inject({ method: 'PUT', url: `${location}?digest=${sha256(bytes)}` });
  t.equal(put.statusCode, 201, 'and its PUT completes it');
  const get = await second.app.inject({ method: 'GET', url: `/v2/team/app/blobs/${sha256(bytes)}` });
  t.ok(get.rawPayload.equals(bytes));
  t.same(readdirSync(join(dataDir, 'uploads')), [], "the upload's own copy is gone once the blob is recorded");
});

t.test('bytes past the acknowledged offset (a write cut off by a crash) are not committed', async (t) => {
  const bytes = randomBytes(10_000);
  const { dataDir, location, id } = await stoppedSession(t, bytes);
  appendFileSync(join(dataDir, 'uploads', id), randomBytes(3000));

  const second = await buildTestApp(t, {}, dataDir);
  const put = await second.app.inject({ method: 'PUT', url: `${location}?digest=${sha256(bytes)}` });
  t.equal(put.statusCode, 201, 'the blob is the acknowledged bytes');
  const get = await second.app.inject({ method: 'GET', url: `/v2/team/app/blobs/${sha256(bytes)}` });
  t.equal(get.rawPayload.length, bytes.length);
});

t.test('a session whose bytes are gone is BLOB_UPLOAD_UNKNOWN, not DIGEST_INVALID', async (t) => {
  const dataDir = tempDataDir(t);
  const bytes = randomBytes(10_000);
  const { app } = await buildTestApp(t, {}, dataDir);
  const location = await sessionWith(app, bytes);
  const store = await createDiskBlobStore(dataDir);
  await store.abort(location.split('/').pop() as string);
  const put = await app.inject({ method: 'PUT', url: `${location}?digest=${sha256(bytes)}` });
  t.equal(put.statusCode, 404);
  t.match(JSON.parse(put.body), { errors: [{ code: 'BLOB_UPLOAD_UNKNOWN' }] });
});

// The sweep read the session rows, then listed the files: a session that wrote its first bytes
// in between looked orphaned, and its file was deleted under it.
t.test('the periodic sweep never takes the file of a session that starts while it runs', async (t) => {
  const dataDir = tempDataDir(t);
  const config = loadConfig({ overrides: { data: dataDir } });
  const metadata = createSqliteMetadata(join(dataDir, 'chartroom.db'));
  t.teardown(() => metadata.close());
  const blobs = await createDiskBlobStore(dataDir);
  const log = createLogger('silent');
  const uploads = createUploads({ metadata, blobs, config, log, now: Date.now, changes: noChangeListener });
  const bytes = randomBytes(5000);
  let started: string | undefined;
  // The sweep's read of the session rows, with a session starting right after it.
  const racing = {
    ...metadata,
    async uploadIds() {
      const ids = await metadata.uploadIds();
      const session = await uploads.start('team/app', {}, { stream: Readable.from([]), present: false });
      if (session.kind !== 'session') throw new Error('no session');
      await uploads.append('team/app', session.id, { stream: Readable.from([bytes]), present: true, length: bytes.length }, undefined);
      started = session.id;
      return ids;
    },
  };
  await createUploads({ metadata: racing, blobs, config, log, now: Date.now, changes: noChangeListener }).sweep();
  const id = started as string;
  t.same(readdirSync(join(dataDir, 'uploads')), [id], "the new session's file is still there");
  t.equal(await uploads.complete('team/app', id, sha256(bytes), { stream: Readable.from([]), present: false }), sha256(bytes));
});

// Found by reliability/fuzz.ts: a first chunk that failed (a malformed chunked body) left an empty file behind.
t.test('a first chunk that fails leaves no file', async (t) => {
  const dataDir = tempDataDir(t);
  const store = await createDiskBlobStore(dataDir);
  const id = await store.startUpload();
  const failing = new Readable({
    read() {
      this.destroy(new Error('the body broke off'));
    },
  });
  await t.rejects(store.append(id, failing, 0));
  t.same(readdirSync(join(dataDir, 'uploads')), []);
});

t.test('a body that fails before the upload file is even open leaves no file, not even later', async (t) => {
  const dataDir = tempDataDir(t);
  const store = await createDiskBlobStore(dataDir);
  for (let i = 0; i < 20; i++) {
    const id = await store.startUpload();
    const broken = new Readable({
      read() {
        this.destroy(new Error('connection reset'));
      },
    });
    await t.rejects(store.append(id, broken, 0));
  }
  // The file stream's open finishes on the thread pool after the pipeline has failed.
  await new Promise((resolve) => setTimeout(resolve, 100));
  t.same(readdirSync(join(dataDir, 'uploads')), [], 'no upload file appears after the cleanup');
});
