import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import type { FastifyInstance } from 'fastify';
import { parse as parseYaml } from 'yaml';
import { chartTgz } from '../helpers/charts.js';
import { sha256 } from '../helpers/oci.js';
import { buildTestApp } from '../helpers/server.js';

const prov = (name: string, version: string, tgz: Buffer): Buffer =>
  Buffer.from(
    `-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\napiVersion: v2\nname: ${name}\nversion: ${version}\n\n...\nfiles:\n  ${name}-${version}.tgz: ${sha256(tgz)}\n-----BEGIN PGP SIGNATURE-----\n\nwsBcBAEBCgAQBQJ=\n-----END PGP SIGNATURE-----\n`,
  );

function multipart(fields: Record<string, { filename: string; content: Buffer }>): { payload: Buffer; headers: Record<string, string> } {
  const boundary = '----chartroom-test-boundary';
  const parts: Buffer[] = [];
  for (const [name, file] of Object.entries(fields)) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"; filename="${file.filename}"\r\nContent-Type: application/octet-stream\r\n\r\n`));
    parts.push(file.content, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(parts), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

async function postRaw(app: FastifyInstance, path: string, body: Buffer, contentType = 'application/x-www-form-urlencoded') {
  return app.inject({ method: 'POST', url: path, payload: body, headers: { 'content-type': contentType } });
}

t.test('a raw upload (as curl --data-binary sends it) becomes a helm-push-shaped OCI artifact', async (t) => {
  const { app } = await buildTestApp(t);
  const tgz = chartTgz({ name: 'app', version: '1.4.0' });
  const res = await postRaw(app, '/api/chartrepo/team/charts', tgz);
  t.equal(res.statusCode, 201);
  t.same(JSON.parse(res.body), { saved: true });

  const manifest = await app.inject({ method: 'GET', url: '/v2/team/app/manifests/1.4.0' });
  t.equal(manifest.statusCode, 200);
  t.equal(manifest.headers['content-type'], 'application/vnd.oci.image.manifest.v1+json');
  const doc = JSON.parse(manifest.body);
  t.notOk('mediaType' in doc, 'no mediaType field, as helm writes it');
  t.equal(doc.config.mediaType, 'application/vnd.cncf.helm.config.v1+json');
  t.same(doc.layers, [{ mediaType: 'application/vnd.cncf.helm.chart.content.v1.tar+gzip', digest: sha256(tgz), size: tgz.length }]);
  t.equal(doc.annotations['org.opencontainers.image.title'], 'app');
  t.equal(doc.annotations['org.opencontainers.image.version'], '1.4.0');
  t.equal(doc.annotations.category, 'demo', 'Chart.yaml annotations are copied');
  const config = await app.inject({ method: 'GET', url: `/v2/team/app/blobs/${doc.config.digest}` });
  t.match(JSON.parse(config.body), { name: 'app', version: '1.4.0', apiVersion: 'v2', appVersion: '2.4.1' });
  const layer = await app.inject({ method: 'GET', url: `/v2/team/app/blobs/${sha256(tgz)}` });
  t.ok(layer.rawPayload.equals(tgz), 'the chart layer is the uploaded .tgz');

  const index = parseYaml((await app.inject({ method: 'GET', url: '/chartrepo/team/index.yaml' })).body);
  t.equal(index.entries.app[0].version, '1.4.0', 'and the classic index shows it');
});

t.test('multipart with chart and prov; prov alone for an existing chart', async (t) => {
  const { app } = await buildTestApp(t);
  const tgz = chartTgz({ name: 'app', version: '1.0.0' });
  const form = multipart({ chart: { filename: 'app-1.0.0.tgz', content: tgz }, prov: { filename: 'app-1.0.0.tgz.prov', content: prov('app', '1.0.0', tgz) } });
  const res = await app.inject({ method: 'POST', url: '/api/chartrepo/team/charts', ...form });
  t.equal(res.statusCode, 201, res.body);
  const provFile = await app.inject({ method: 'GET', url: '/chartrepo/team/charts/app-1.0.0.tgz.prov' });
  t.equal(provFile.statusCode, 200);
  t.match(provFile.body, /name: app/);

  const other = chartTgz({ name: 'app', version: '2.0.0' });
  t.equal((await postRaw(app, '/api/chartrepo/team/charts', other)).statusCode, 201);
  t.equal((await app.inject({ method: 'GET', url: '/chartrepo/team/charts/app-2.0.0.tgz.prov' })).statusCode, 404);
  const provOnly = await postRaw(app, '/api/chartrepo/team/prov', prov('app', '2.0.0', other));
  t.equal(provOnly.statusCode, 201, provOnly.body);
  t.equal((await app.inject({ method: 'GET', url: '/chartrepo/team/charts/app-2.0.0.tgz.prov' })).statusCode, 200, 'provenance added to the stored chart');

  const orphan = await postRaw(app, '/api/chartrepo/team/prov', prov('app', '9.9.9', other));
  t.equal(orphan.statusCode, 404);
  t.match(JSON.parse(orphan.body), { error: /no chart version found/ });
  const mismatch = multipart({ chart: { filename: 'a.tgz', content: chartTgz({ name: 'app', version: '3.0.0' }) }, prov: { filename: 'a.prov', content: prov('app', '1.0.0', tgz) } });
  t.equal((await app.inject({ method: 'POST', url: '/api/chartrepo/team/charts', ...mismatch })).statusCode, 400);
  const empty = multipart({ other: { filename: 'x', content: Buffer.from('x') } });
  const none = await app.inject({ method: 'POST', url: '/api/chartrepo/team/charts', ...empty });
  t.equal(none.statusCode, 400);
  t.same(JSON.parse(none.body), { error: 'no package or provenance file found in form fields chart and prov' });
});

t.test('existing versions: identical is fine, different is 409 unless overwrite is allowed', async (t) => {
  const { app } = await buildTestApp(t);
  const tgz = chartTgz({ name: 'app', version: '1.0.0' });
  t.equal((await postRaw(app, '/api/chartrepo/team/charts', tgz)).statusCode, 201);
  t.equal((await postRaw(app, '/api/chartrepo/team/charts', tgz)).statusCode, 201, 'the same bytes again');
  const changed = await postRaw(app, '/api/chartrepo/team/charts?force', chartTgz({ name: 'app', version: '1.0.0', readme: '# new\n' }));
  t.equal(changed.statusCode, 409);
  t.match(JSON.parse(changed.body), { error: /already exists/ });

  const open = await buildTestApp(t, { 'charts.allowOverwrite': true });
  t.equal((await postRaw(open.app, '/api/chartrepo/team/charts', tgz)).statusCode, 201);
  const replaced = chartTgz({ name: 'app', version: '1.0.0', readme: '# new\n' });
  t.equal((await postRaw(open.app, '/api/chartrepo/team/charts?force', replaced)).statusCode, 201);
  const file = await open.app.inject({ method: 'GET', url: '/chartrepo/team/charts/app-1.0.0.tgz' });
  t.ok(file.rawPayload.equals(replaced), 'overwritten');
});

t.test('list, get, head and delete like ChartMuseum', async (t) => {
  const { app } = await buildTestApp(t);
  for (const [name, version] of [['app', '1.0.0'], ['app', '1.2.0'], ['db', '0.1.0'], ['web', '2.0.0']] as const) {
    await postRaw(app, '/api/chartrepo/team/charts', chartTgz({ name, version }));
  }
  const list = JSON.parse((await app.inject({ method: 'GET', url: '/api/chartrepo/team/charts' })).body);
  t.same(Object.keys(list), ['app', 'db', 'web']);
  t.same(list.app.map((v: { version: string }) => v.version), ['1.2.0', '1.0.0']);
  t.same(list.app[0].urls, ['charts/app-1.2.0.tgz']);
  const page = JSON.parse((await app.inject({ method: 'GET', url: '/api/chartrepo/team/charts?offset=1&limit=1' })).body);
  t.same(Object.keys(page), ['db']);
  t.equal((await app.inject({ method: 'GET', url: '/api/chartrepo/team/charts?limit=0' })).statusCode, 400);
  t.equal((await app.inject({ method: 'GET', url: '/api/chartrepo/team/charts?offset=-1' })).statusCode, 400);

  const versions = JSON.parse((await app.inject({ method: 'GET', url: '/api/chartrepo/team/charts/app' })).body);
  t.same(versions.map((v: { version: string }) => v.version), ['1.2.0', '1.0.0']);
  const one = JSON.parse((await app.inject({ method: 'GET', url: '/api/chartrepo/team/charts/app/1.0.0' })).body);
  t.match(one, { name: 'app', version: '1.0.0', appVersion: '2.4.1' });
  t.equal(JSON.parse((await app.inject({ method: 'GET', url: '/api/chartrepo/team/charts/app/latest' })).body).version, '1.2.0');
  t.equal((await app.inject({ method: 'HEAD', url: '/api/chartrepo/team/charts/app/1.0.0' })).statusCode, 200);
  t.equal((await app.inject({ method: 'HEAD', url: '/api/chartrepo/team/charts/app/9.0.0' })).statusCode, 404);
  const missing = await app.inject({ method: 'GET', url: '/api/chartrepo/team/charts/nope' });
  t.equal(missing.statusCode, 404);
  t.same(JSON.parse(missing.body), { error: 'chart not found' });

  const del = await app.inject({ method: 'DELETE', url: '/api/chartrepo/team/charts/app/1.0.0' });
  t.equal(del.statusCode, 200);
  t.same(JSON.parse(del.body), { deleted: true });
  t.equal((await app.inject({ method: 'GET', url: '/v2/team/app/manifests/1.0.0' })).statusCode, 404, 'gone from OCI');
  t.equal((await app.inject({ method: 'DELETE', url: '/api/chartrepo/team/charts/app/1.0.0' })).statusCode, 404);
});

t.test('bad uploads are 4xx with a message, and store nothing', async (t) => {
  const { app } = await buildTestApp(t, { 'charts.maxUnpackedBytes': 64 * 1024 });
  const cases: [string, Buffer, number, RegExp][] = [
    ['not gzip', Buffer.from('hello'), 400, /not a valid gzip archive/],
    ['no Chart.yaml', chartTgz({ chartYaml: '' }), 400, /Chart.yaml|chart/],
    ['bad name', chartTgz({ name: 'App', version: '1.0.0' }), 400, /cannot name a repository/],
    ['too big', Buffer.alloc(100 * 1024, 1), 413, /larger than/],
  ];
  for (const [what, body, status, message] of cases) {
    const res = await postRaw(app, '/api/chartrepo/team/charts', body);
    t.equal(res.statusCode, status, what);
    t.match(JSON.parse(res.body), { error: message }, what);
  }
  t.same(JSON.parse((await app.inject({ method: 'GET', url: '/api/chartrepo/team/charts' })).body), {});
  t.same(JSON.parse((await app.inject({ method: 'GET', url: '/v2/_catalog' })).body).repositories, []);
});

/** Every file under blobs/ and uploads/. */
function storedFiles(dataDir: string): string[] {
  return ['blobs', 'uploads'].flatMap((dir) =>
    readdirSync(join(dataDir, dir), { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => join(entry.parentPath, entry.name)),
  );
}

// Found by reliability/fuzz.ts: an upload was made a blob before it was checked, so every refused
// chart, provenance file or form left a file in blobs/ that nothing pointed at.
t.test('a refused upload stores nothing', async (t) => {
  const { app, dataDir } = await buildTestApp(t);
  const tgz = chartTgz({ name: 'app', version: '1.0.0' });
  t.equal((await postRaw(app, '/api/chartrepo/team/charts', tgz)).statusCode, 201);
  const before = storedFiles(dataDir).sort();
  const refused = [
    await postRaw(app, '/api/chartrepo/team/charts', Buffer.from('not a chart')),
    await postRaw(app, '/api/chartrepo/team/prov', Buffer.from('not a provenance file')),
    await postRaw(app, '/api/chartrepo/team/charts', chartTgz({ name: 'app', version: '1.0.0', readme: 'other content' })),
    await app.inject({ method: 'POST', url: '/api/chartrepo/team/charts', ...multipart({ chart: { filename: 'x.tgz', content: Buffer.from('junk') } }) }),
  ];
  t.same(refused.map((res) => res.statusCode), [400, 400, 409, 400]);
  t.same(storedFiles(dataDir).sort(), before, 'no new file in blobs/ or uploads/');
});

t.test('a multipart form that breaks off is a 400, not a 500', async (t) => {
  const { app, dataDir } = await buildTestApp(t);
  const form = multipart({ chart: { filename: 'app-1.0.0.tgz', content: chartTgz({ name: 'app', version: '1.0.0' }) } });
  const cut = form.payload.subarray(0, form.payload.length - 40);
  const res = await app.inject({ method: 'POST', url: '/api/chartrepo/team/charts', payload: cut, headers: form.headers });
  t.equal(res.statusCode, 400);
  t.match(JSON.parse(res.body), { error: /malformed multipart body/ });
  t.same(storedFiles(dataDir), []);
});
