// A full disk: pushes fail with 507 and an OCI error body, nothing half-written becomes visible,
// reads go on, SQLite's own "database or disk is full" is the same 507, and once space is freed
// pushes work again. The data directory is a small tmpfs.
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readdirSync, rmSync, statSync, truncateSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { httpGet, httpRequest, type HttpReply } from '../helpers/http.js';
import { describe, mediaTypes, sha256 } from '../helpers/oci.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { mountTmpfs, tmpfsUnavailable } from '../helpers/tmpfs.js';

const mib = 1024 * 1024;

function pushBlob(server: TestServer, repository: string, bytes: Buffer): Promise<HttpReply> {
  return httpRequest(`${server.url}/v2/${repository}/blobs/uploads/?digest=${sha256(bytes)}`, 'POST', { 'content-type': 'application/octet-stream' }, bytes);
}

function putManifest(server: TestServer, repository: string, tag: string, manifest: Buffer): Promise<HttpReply> {
  return httpRequest(`${server.url}/v2/${repository}/manifests/${tag}`, 'PUT', { 'content-type': mediaTypes.ociManifest }, manifest);
}

function imageOf(config: Buffer, layer: Buffer, padding = 0): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: mediaTypes.ociManifest,
      config: describe(config, mediaTypes.ociConfig),
      layers: [describe(layer, mediaTypes.ociLayer)],
      annotations: { padding: randomBytes(padding / 2).toString('hex') },
    }),
  );
}

const codeOf = (reply: HttpReply): string | undefined => (JSON.parse(reply.body.toString()) as { errors?: { code: string }[] }).errors?.[0]?.code;

/** Writes a file until the disk refuses more; returns its path. */
function fillDisk(dir: string): string {
  const path = join(dir, 'filler');
  const fd = openSync(path, 'a');
  const chunk = Buffer.alloc(64 * 1024, 1);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    closeSync(fd);
  }
  return path;
}

t.test('a full disk', { skip: tmpfsUnavailable() ?? false }, async (t) => {
  let server: TestServer | undefined;
  const mounted = mountTmpfs(t, 24, async () => {
    await server?.app.close();
  });
  if ('reason' in mounted) throw new Error(mounted.reason);
  const dataDir = join(mounted.dir, 'data');
  server = await startServer(t, {}, dataDir);
  const config = Buffer.from('{"architecture":"amd64","os":"linux"}');
  const layer = randomBytes(64 * 1024);
  t.equal((await pushBlob(server, 'team/app', config)).status, 201);
  t.equal((await pushBlob(server, 'team/app', layer)).status, 201);
  const manifest = imageOf(config, layer);
  t.equal((await putManifest(server, 'team/app', 'v1', manifest)).status, 201);

  // The disk fills up, but for 1 MiB: a 3 MiB push gets part of the way.
  const filler = fillDisk(mounted.dir);
  truncateSync(filler, statSync(filler).size - mib);
  const bytes = randomBytes(3 * mib);
  const refused = await pushBlob(server, 'team/big', bytes);
  t.equal(refused.status, 507, 'a blob push that meets a full disk is 507 Insufficient Storage');
  t.equal(codeOf(refused), 'UNAVAILABLE', 'with an OCI error body');
  t.match(refused.body.toString(), /out of storage space/);
  t.same(readdirSync(join(dataDir, 'uploads')), [], 'the half-written upload is gone');
  t.equal((await httpGet(`${server.url}/v2/team/big/blobs/${sha256(bytes)}`)).status, 404, 'and its blob is not visible');

  const post = await httpRequest(`${server.url}/v2/team/chunks/blobs/uploads/`, 'POST');
  const location = `${server.url}${String(post.headers.location)}`;
  const chunk = await httpRequest(location, 'PATCH', { 'content-range': `0-${3 * mib - 1}` }, bytes);
  t.equal(chunk.status, 507, 'a chunk that does not fit is 507');
  t.equal((await httpGet(location)).headers.range, '0-0', 'and leaves its session as it was');

  // A manifest bigger than the free room: SQLite's WAL meets the full disk (PostgreSQL's disk is elsewhere).
  const big = imageOf(config, layer, 3 * mib);
  if (process.env.CHARTROOM_TEST_METADATA !== 'postgres') {
    const full = await putManifest(server, 'team/app', 'v2', big);
    t.equal(full.status, 507, 'SQLITE_FULL on a manifest push is 507 too');
    t.equal(codeOf(full), 'UNAVAILABLE');
    t.equal((await httpGet(`${server.url}/v2/team/app/manifests/v2`, { accept: mediaTypes.ociManifest })).status, 404, 'the refused manifest is not visible');
  }

  fillDisk(mounted.dir);
  t.equal((await httpGet(`${server.url}/readyz`)).status, 503, '/readyz says the data directory takes no new file');

  const read = await httpGet(`${server.url}/v2/team/app/manifests/v1`, { accept: mediaTypes.ociManifest });
  t.equal(read.status, 200, 'reads keep working');
  t.ok(read.body.equals(manifest));
  t.ok((await httpGet(`${server.url}/v2/team/app/blobs/${sha256(layer)}`)).body.equals(layer));
  t.same(JSON.parse((await httpGet(`${server.url}/v2/team/app/tags/list`)).body.toString()).tags, ['v1']);

  rmSync(filler);
  t.equal((await putManifest(server, 'team/app', 'v2', big)).status, 201, 'once space is freed the same manifest goes in');
  const again = randomBytes(2 * mib);
  t.equal((await pushBlob(server, 'team/app', again)).status, 201, 'and blobs too');
  t.ok((await httpGet(`${server.url}/v2/team/app/blobs/${sha256(again)}`)).body.equals(again));
  t.equal((await httpGet(`${server.url}/readyz`)).status, 200);
});
