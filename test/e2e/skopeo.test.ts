// End-to-end: stock skopeo against a real Chartroom server.
//
// No other registry is reachable, so each test builds a small OCI image layout on disk
// (oci-layout, index.json, blobs/sha256/<hex>) and copies it in with `skopeo copy oci:… docker://…`.
// The server's HTTP traffic is observed by listening to the Node http server's 'request' event
// beside Fastify's handler, which is how the tests see cross-repository mounts and chunked PATCHes.
// skopeo runs with --insecure-policy and an isolated HOME / registries.conf / auth file.

import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import t, { type Test } from 'tap';
import { tar } from '../helpers/charts.js';
import { runClient, type ClientResult } from '../helpers/clients.js';
import { getManifest, headerOf, httpGet } from '../helpers/http.js';
import { mediaTypes, sha256, type Descriptor, type ImageManifest } from '../helpers/oci.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { skopeoFor, type Skopeo } from '../helpers/skopeo.js';
import { tempDir } from '../helpers/tmp.js';

const SUBTEST_TIMEOUT = 120_000;

interface Layout {
  dir: string;
  manifestBytes: Buffer;
  manifestDigest: string;
  config: Descriptor;
  layers: Descriptor[];
  /** Uncompressed tar of each layer, in order. */
  tars: Buffer[];
}

interface SeenRequest {
  method: string;
  url: string;
  transferEncoding: string | undefined;
  status: number;
}

/** Runs skopeo; a non-zero exit throws with the command and its output, which fails the test. */
async function skopeo(s: Skopeo, args: string[]): Promise<ClientResult> {
  const full = ['--insecure-policy', '--tmpdir', s.tmp, ...args];
  const result = await runClient(s.bin, full, { env: s.env, timeoutMs: 60_000 });
  if (result.code !== 0) {
    throw new Error(`\`skopeo ${full.join(' ')}\` exited ${result.code}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`);
  }
  return result;
}

/** `skopeo copy` from one repository of the server to another: `from` and `to` are `<repo>:<tag>`. */
function copyWithin(s: Skopeo, server: TestServer, from: string, to: string): Promise<ClientResult> {
  return skopeo(s, ['copy', '--src-tls-verify=false', '--dest-tls-verify=false', `docker://${server.host}/${from}`, `docker://${server.host}/${to}`]);
}

/** Every request the server answers, with its final status, in arrival order. */
function recordRequests(server: TestServer): SeenRequest[] {
  const seen: SeenRequest[] = [];
  server.app.server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const entry: SeenRequest = {
      method: req.method ?? '',
      url: req.url ?? '',
      transferEncoding: req.headers['transfer-encoding'],
      status: 0,
    };
    seen.push(entry);
    res.on('finish', () => {
      entry.status = res.statusCode;
    });
  });
  return seen;
}

function describe(seen: SeenRequest[]): string[] {
  return seen.map((r) => `${r.method} ${r.url} -> ${r.status}${r.transferEncoding ? ` (transfer-encoding: ${r.transferEncoding})` : ''}`);
}

function writeBlob(dir: string, bytes: Buffer): string {
  const digest = sha256(bytes);
  writeFileSync(join(dir, 'blobs', 'sha256', digest.slice('sha256:'.length)), bytes);
  return digest;
}

/**
 * An OCI image layout with one image tagged `tag`: an OCI config and one layer per tar,
 * gzip-compressed unless `compress` is false. Random content makes every image distinct.
 */
function buildLayout(dir: string, tag: string, options: { layers?: number; compress?: boolean } = {}): Layout {
  const count = options.layers ?? 2;
  const compress = options.compress ?? true;
  mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
  writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));

  const tars: Buffer[] = [];
  const layers: Descriptor[] = [];
  for (let i = 0; i < count; i++) {
    const content = tar([
      { path: `layer${i}/hello.txt`, content: Buffer.from(`hello from layer ${i}\n`) },
      { path: `layer${i}/random.bin`, content: randomBytes(48 * 1024 + i * 1000) },
    ]);
    tars.push(content);
    const blob = compress ? gzipSync(content) : content;
    layers.push({ mediaType: compress ? mediaTypes.ociLayer : mediaTypes.ociLayerTar, digest: writeBlob(dir, blob), size: blob.length });
  }
  const configBytes = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: { Labels: { 'org.example.nonce': randomBytes(8).toString('hex') } },
      rootfs: { type: 'layers', diff_ids: tars.map((b) => sha256(b)) },
      history: tars.map((_b, i) => ({ created_by: `layer ${i}` })),
    }),
  );
  const config: Descriptor = { mediaType: mediaTypes.ociConfig, digest: writeBlob(dir, configBytes), size: configBytes.length };
  const manifestBytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: mediaTypes.ociManifest, config, layers }));
  const manifestDigest = writeBlob(dir, manifestBytes);
  const index = {
    schemaVersion: 2,
    manifests: [{ mediaType: mediaTypes.ociManifest, digest: manifestDigest, size: manifestBytes.length, annotations: { 'org.opencontainers.image.ref.name': tag } }],
  };
  writeFileSync(join(dir, 'index.json'), JSON.stringify(index));
  return { dir, manifestBytes, manifestDigest, config, layers, tars };
}

/** Builds a fresh layout with `v1` and copies it to docker://HOST/<repo>:v1. */
async function pushImage(t: Test, s: Skopeo, server: TestServer, repo: string, options: { compress?: boolean } = {}): Promise<Layout> {
  const layout = buildLayout(tempDir(t, 'layout'), 'v1', options);
  await skopeo(s, ['copy', '--dest-tls-verify=false', `oci:${layout.dir}:v1`, `docker://${server.host}/${repo}:v1`]);
  return layout;
}

async function getBlob(server: TestServer, repo: string, digest: string): Promise<{ status: number; bytes: Buffer }> {
  const res = await httpGet(`${server.url}/v2/${repo}/blobs/${digest}`);
  return { status: res.status, bytes: res.body };
}

function blobDigests(layout: Pick<Layout, 'config' | 'layers'>): string[] {
  return [layout.config.digest, ...layout.layers.map((l) => l.digest)];
}

t.test('skopeo copy oci: → docker:// stores the manifest byte for byte, with its blobs', { timeout: SUBTEST_TIMEOUT }, async (t) => {
  const s = skopeoFor(t);
  if (!s) return;
  const server = await startServer(t);
  const seen = recordRequests(server);
  const layout = await pushImage(t, s, server, 'team/img');

  const res = await getManifest(server, 'team/img', 'v1');
  t.equal(res.status, 200, 'GET /v2/team/img/manifests/v1');
  t.equal(headerOf(res, 'content-type'), mediaTypes.ociManifest, 'Content-Type is the OCI manifest type');
  t.equal(headerOf(res, 'docker-content-digest'), layout.manifestDigest, 'Docker-Content-Digest is the layout manifest digest');
  t.equal(sha256(res.body), layout.manifestDigest, 'the manifest bytes are unchanged');
  for (const digest of blobDigests(layout)) {
    const blob = await getBlob(server, 'team/img', digest);
    t.equal(blob.status, 200, `blob ${digest.slice(0, 19)} is in team/img`);
    t.equal(sha256(blob.bytes), digest, `blob ${digest.slice(0, 19)} has the right bytes`);
  }
  t.ok(
    seen.some((r) => r.method === 'PATCH' && r.url.startsWith('/v2/team/img/blobs/uploads/') && r.status === 202),
    'blobs went up through POST + PATCH (skopeo upload flow)',
    { requests: describe(seen) },
  );
});

t.test('skopeo inspect reports the digest and the tags', { timeout: SUBTEST_TIMEOUT }, async (t) => {
  const s = skopeoFor(t);
  if (!s) return;
  const server = await startServer(t);
  const layout = await pushImage(t, s, server, 'team/img');
  await skopeo(s, ['copy', '--dest-tls-verify=false', `oci:${layout.dir}:v1`, `docker://${server.host}/team/img:stable`]);

  const inspected = JSON.parse((await skopeo(s, ['inspect', '--tls-verify=false', `docker://${server.host}/team/img:v1`])).stdout) as {
    Digest?: unknown;
    RepoTags?: unknown;
    Layers?: unknown;
    Architecture?: unknown;
    Os?: unknown;
  };
  t.equal(inspected.Digest, layout.manifestDigest, 'Digest');
  t.same(Array.isArray(inspected.RepoTags) ? [...(inspected.RepoTags as unknown[])].sort() : inspected.RepoTags, ['stable', 'v1'], 'RepoTags from tags/list');
  t.same(inspected.Layers, layout.layers.map((l) => l.digest), 'Layers');
  t.same([inspected.Architecture, inspected.Os], ['amd64', 'linux'], 'read from the config blob');

  const raw = await skopeo(s, ['inspect', '--raw', '--tls-verify=false', `docker://${server.host}/team/img:stable`]);
  t.equal(raw.stdout, layout.manifestBytes.toString('utf8'), 'inspect --raw returns the manifest bytes');
});

t.test('skopeo list-tags lists every tag of the repository', { timeout: SUBTEST_TIMEOUT }, async (t) => {
  const s = skopeoFor(t);
  if (!s) return;
  const server = await startServer(t);
  const layout = await pushImage(t, s, server, 'team/img');
  await skopeo(s, ['copy', '--dest-tls-verify=false', `oci:${layout.dir}:v1`, `docker://${server.host}/team/img:v2`]);
  await pushImage(t, s, server, 'team/elsewhere');

  const listed = JSON.parse((await skopeo(s, ['list-tags', '--tls-verify=false', `docker://${server.host}/team/img`])).stdout) as {
    Repository?: unknown;
    Tags?: unknown;
  };
  t.equal(listed.Repository, `${server.host}/team/img`, 'Repository names the listed repository');
  t.same(Array.isArray(listed.Tags) ? [...(listed.Tags as unknown[])].sort() : listed.Tags, ['v1', 'v2'], 'both tags, and only this repository’s');
});

t.test('skopeo copy docker:// → oci: gets back the same manifest and blobs', { timeout: SUBTEST_TIMEOUT }, async (t) => {
  const s = skopeoFor(t);
  if (!s) return;
  const server = await startServer(t);
  const layout = await pushImage(t, s, server, 'team/img');
  const back = join(tempDir(t, 'back'), 'layout');
  await skopeo(s, ['copy', '--src-tls-verify=false', `docker://${server.host}/team/img:v1`, `oci:${back}:v1`]);

  const index = JSON.parse(readFileSync(join(back, 'index.json'), 'utf8')) as { manifests?: Descriptor[] };
  const entry = index.manifests?.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === 'v1');
  t.equal(entry?.digest, layout.manifestDigest, 'index.json points v1 at the original manifest digest');

  const expected = [layout.manifestDigest, ...blobDigests(layout)].map((d) => d.slice('sha256:'.length)).sort();
  const actual = readdirSync(join(back, 'blobs', 'sha256')).sort();
  t.same(actual, expected, 'the same set of blobs');
  for (const hex of actual) {
    t.equal(sha256(readFileSync(join(back, 'blobs', 'sha256', hex))), `sha256:${hex}`, `blob ${hex.slice(0, 12)} content matches its digest`);
  }
});

t.test('skopeo copy between repositories mounts the blobs instead of uploading them', { timeout: SUBTEST_TIMEOUT }, async (t) => {
  const s = skopeoFor(t);
  if (!s) return;
  const server = await startServer(t);
  const layout = await pushImage(t, s, server, 'team/img');
  const seen = recordRequests(server);
  await copyWithin(s, server, 'team/img:v1', 'other/img:v1');

  const requests = describe(seen);
  for (const layer of layout.layers) {
    const mount = seen.find(
      (r) => r.method === 'POST' && r.url.startsWith('/v2/other/img/blobs/uploads/') && r.url.includes(`mount=${encodeURIComponent(layer.digest)}`),
    );
    t.ok(mount, `POST …/uploads/?mount=${layer.digest.slice(0, 19)}… was sent`, { requests });
    t.equal(mount?.status, 201, 'the mount is answered 201 Created', { requests });
    t.ok(mount?.url.includes('from=team%2Fimg') || mount?.url.includes('from=team/img'), 'from= names the source repository', { url: mount?.url });
  }
  // skopeo re-uploads the config blob (it reads the config and writes it with PutBlob, never
  // trying to reuse it): only layers are candidates for a mount.
  const uploaded = seen
    .filter((r) => r.method === 'PUT' && r.url.startsWith('/v2/other/img/blobs/uploads/'))
    .map((r) => decodeURIComponent(/[?&]digest=([^&]+)/.exec(r.url)?.[1] ?? ''));
  t.same(uploaded, [layout.config.digest], 'no layer bytes were uploaded again, only the config', { requests });

  for (const digest of blobDigests(layout)) {
    const blob = await getBlob(server, 'other/img', digest);
    t.equal(blob.status, 200, `blob ${digest.slice(0, 19)} is in other/img`);
    t.equal(sha256(blob.bytes), digest, `blob ${digest.slice(0, 19)} bytes`);
  }
  const res = await getManifest(server, 'other/img', 'v1');
  t.equal(res.status, 200, 'other/img:v1 exists');
  t.equal(headerOf(res, 'docker-content-digest'), layout.manifestDigest, 'with the same manifest digest');
});

t.test('skopeo delete removes the manifest from one repository only', { timeout: SUBTEST_TIMEOUT }, async (t) => {
  const s = skopeoFor(t);
  if (!s) return;
  const server = await startServer(t);
  const layout = await pushImage(t, s, server, 'team/img');
  await copyWithin(s, server, 'team/img:v1', 'other/img:v1');
  const seen = recordRequests(server);
  await skopeo(s, ['delete', '--tls-verify=false', `docker://${server.host}/team/img:v1`]);

  const deletion = seen.find((r) => r.method === 'DELETE');
  t.equal(deletion?.url, `/v2/team/img/manifests/${layout.manifestDigest}`, 'skopeo deletes by digest', { requests: describe(seen) });
  t.equal(deletion?.status, 202, 'DELETE is answered 202 Accepted');

  t.equal((await getManifest(server, 'team/img', 'v1')).status, 404, 'team/img:v1 is gone');
  t.equal((await getManifest(server, 'team/img', layout.manifestDigest)).status, 404, 'team/img@digest is gone');
  const inspect = await runClient(s.bin, ['--insecure-policy', 'inspect', '--tls-verify=false', `docker://${server.host}/team/img:v1`], { env: s.env });
  t.not(inspect.code, 0, 'skopeo inspect of the deleted image fails');

  const other = await getManifest(server, 'other/img', 'v1');
  t.equal(other.status, 200, 'other/img:v1 is still there');
  t.equal(sha256(other.body), layout.manifestDigest, 'with the same manifest');
  for (const digest of blobDigests(layout)) {
    const blob = await getBlob(server, 'other/img', digest);
    t.equal(blob.status, 200, `other/img still serves blob ${digest.slice(0, 19)}`);
    t.equal(sha256(blob.bytes), digest, 'with its bytes');
  }
});

t.test('skopeo copy --dest-compress streams a chunked PATCH and the registry keeps the gzip it computed', { timeout: SUBTEST_TIMEOUT }, async (t) => {
  const s = skopeoFor(t);
  if (!s) return;
  const server = await startServer(t);
  const seen = recordRequests(server);
  // Uncompressed source layers: with --dest-compress skopeo gzips them on the fly, so it cannot
  // know the size or digest in advance and sends the PATCH body with chunked transfer encoding.
  const layout = buildLayout(tempDir(t, 'layout'), 'v1', { layers: 1, compress: false });
  await skopeo(s, [
    'copy',
    '--dest-tls-verify=false',
    '--dest-compress',
    '--dest-compress-format',
    'gzip',
    `oci:${layout.dir}:v1`,
    `docker://${server.host}/team/img:v1`,
  ]);
  const requests = describe(seen);
  t.ok(
    seen.some((r) => r.method === 'PATCH' && r.transferEncoding === 'chunked' && r.status === 202),
    'a PATCH with Transfer-Encoding: chunked was accepted',
    { requests },
  );

  const res = await getManifest(server, 'team/img', 'v1');
  t.equal(res.status, 200, 'the image was stored');
  t.equal(headerOf(res, 'docker-content-digest'), sha256(res.body), 'Docker-Content-Digest matches the stored bytes');
  const manifest = JSON.parse(res.body.toString('utf8')) as ImageManifest;
  t.equal(manifest.layers.length, 1, 'one layer, as in the source');
  const layer = manifest.layers[0];
  if (!layer) return;
  t.equal(layer.mediaType, mediaTypes.ociLayer, 'the layer is now gzip');
  t.not(layer.digest, layout.layers[0]?.digest, 'with a new digest');

  const blob = await getBlob(server, 'team/img', layer.digest);
  t.equal(blob.status, 200, 'the compressed layer is served');
  t.equal(blob.bytes.length, layer.size, 'its size is the manifest size');
  t.equal(sha256(blob.bytes), layer.digest, 'its bytes hash to its digest');
  t.equal(sha256(gunzipSync(blob.bytes)), sha256(layout.tars[0] ?? Buffer.alloc(0)), 'it unzips to the original tar');
});
