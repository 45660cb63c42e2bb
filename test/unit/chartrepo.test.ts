import { gunzipSync } from 'node:zlib';
import t from 'tap';
import { parse as parseYaml } from 'yaml';
import { chartTgz, pushChart } from '../helpers/charts.js';
import { sha256 } from '../helpers/oci.js';
import { buildTestApp } from '../helpers/server.js';

interface Entry {
  name: string;
  version: string;
  appVersion?: string;
  digest: string;
  urls: string[];
  created: string;
  keywords?: string[];
  maintainers?: { name: string }[];
}

t.test('index.yaml lists every pushed version, newest first, with digest, urls and created', async (t) => {
  const { app } = await buildTestApp(t);
  const tgz = new Map<string, Buffer>();
  for (const version of ['1.0.0', '1.10.0', '1.2.0', '2.0.0-rc.1']) {
    tgz.set(version, chartTgz({ name: 'app', version }));
    t.equal((await pushChart(app, 'team/app', tgz.get(version) as Buffer, version)).res.statusCode, 201);
  }
  await pushChart(app, 'team/db', chartTgz({ name: 'db', version: '0.1.0' }), '0.1.0');
  await pushChart(app, 'other/web', chartTgz({ name: 'web', version: '3.0.0' }), '3.0.0');

  const res = await app.inject({ method: 'GET', url: '/chartrepo/team/index.yaml' });
  t.equal(res.statusCode, 200);
  t.equal(res.headers['content-type'], 'application/x-yaml');
  const index = parseYaml(res.body) as { apiVersion: string; entries: Record<string, Entry[]> };
  t.equal(index.apiVersion, 'v1');
  t.same(Object.keys(index.entries), ['app', 'db'], 'only this namespace');
  const app0 = index.entries.app as Entry[];
  t.same(app0.map((e) => e.version), ['2.0.0-rc.1', '1.10.0', '1.2.0', '1.0.0'], 'semver order, newest first');
  t.equal(app0[1]?.digest, sha256(tgz.get('1.10.0') as Buffer).slice(7), 'digest is the sha256 of the .tgz');
  t.same(app0[1]?.urls, ['charts/app-1.10.0.tgz']);
  t.equal(app0[1]?.created, '2026-01-02T03:04:05.000Z', 'created from the manifest annotation');
  t.equal(app0[1]?.appVersion, '2.4.1');
  t.same(app0[1]?.keywords, ['web', 'example']);
  t.same(app0[1]?.maintainers, [{ name: 'Ada', email: 'ada@example.com' }]);

  const json = await app.inject({ method: 'GET', url: '/chartrepo/team/index.json' });
  t.equal(json.headers['content-type'], 'application/json');
  t.same(JSON.parse(json.body).entries, index.entries, 'index.json has the same content');

  const file = await app.inject({ method: 'GET', url: '/chartrepo/team/charts/app-1.10.0.tgz' });
  t.equal(file.statusCode, 200);
  t.ok(file.rawPayload.equals(tgz.get('1.10.0') as Buffer), 'the .tgz byte for byte');
  const rc = await app.inject({ method: 'GET', url: '/chartrepo/team/charts/app-2.0.0-rc.1.tgz' });
  t.equal(rc.statusCode, 200, 'a version with dashes resolves');
  t.equal((await app.inject({ method: 'GET', url: '/chartrepo/team/charts/app-9.9.9.tgz' })).statusCode, 404);
  t.equal((await app.inject({ method: 'GET', url: '/chartrepo/team/charts/app-1.0.0.tgz.prov' })).statusCode, 404, 'no provenance pushed');
});

t.test('the index follows pushes and deletes; ETag, 304 and gzip', async (t) => {
  const { app } = await buildTestApp(t);
  await pushChart(app, 'team/app', chartTgz({ version: '1.0.0' }), '1.0.0');
  const first = await app.inject({ method: 'GET', url: '/chartrepo/team/index.yaml' });
  const etag = first.headers.etag as string;
  t.ok(etag);
  const notModified = await app.inject({ method: 'GET', url: '/chartrepo/team/index.yaml', headers: { 'if-none-match': etag } });
  t.equal(notModified.statusCode, 304);
  t.equal(notModified.body, '');

  const zipped = await app.inject({ method: 'GET', url: '/chartrepo/team/index.yaml', headers: { 'accept-encoding': 'gzip, deflate' } });
  t.equal(zipped.headers['content-encoding'], 'gzip');
  t.equal(gunzipSync(zipped.rawPayload).toString(), first.body.replace(/generated: .*/, (line) => line), 'same document, compressed');

  await pushChart(app, 'team/app', chartTgz({ version: '1.1.0' }), '1.1.0');
  const after = await app.inject({ method: 'GET', url: '/chartrepo/team/index.yaml', headers: { 'if-none-match': etag } });
  t.equal(after.statusCode, 200, 'a push changes the ETag');
  t.same((parseYaml(after.body).entries.app as Entry[]).map((e) => e.version), ['1.1.0', '1.0.0']);

  await app.inject({ method: 'DELETE', url: '/v2/team/app/manifests/1.1.0' });
  const deleted = await app.inject({ method: 'GET', url: '/chartrepo/team/index.yaml' });
  t.same((parseYaml(deleted.body).entries.app as Entry[]).map((e) => e.version), ['1.0.0'], 'deleting the tag removes the version');
  t.equal((await app.inject({ method: 'GET', url: '/chartrepo/team/charts/app-1.1.0.tgz' })).statusCode, 404);
});

t.test('top-level charts, provenance files, empty and bad namespaces', async (t) => {
  const { app } = await buildTestApp(t);
  const prov = Buffer.from('-----BEGIN PGP SIGNED MESSAGE-----\nfake\n');
  await pushChart(app, 'app', chartTgz({ version: '1.0.0' }), '1.0.0', { prov, provFirst: true });
  const top = parseYaml((await app.inject({ method: 'GET', url: '/chartrepo/index.yaml' })).body);
  t.same(Object.keys(top.entries), ['app']);
  const provRes = await app.inject({ method: 'GET', url: '/chartrepo/charts/app-1.0.0.tgz.prov' });
  t.equal(provRes.statusCode, 200);
  t.equal(provRes.body, prov.toString(), 'provenance found by media type, even first');

  const empty = await app.inject({ method: 'GET', url: '/chartrepo/nobody/index.yaml' });
  t.equal(empty.statusCode, 200);
  t.same(parseYaml(empty.body).entries, {});
  for (const url of ['/chartrepo/Bad%20Name/index.yaml', '/chartrepo/%E0%A4%A/index.yaml', '/chartrepo/team/other.txt', '/chartrepo/../x/index.yaml']) {
    const res = await app.inject({ method: 'GET', url });
    t.ok(res.statusCode >= 400 && res.statusCode < 500, `${url} → ${res.statusCode}`);
  }
});

t.test('JSON at index.yaml when configured', async (t) => {
  const { app } = await buildTestApp(t, { 'charts.indexFormat': 'json' });
  await pushChart(app, 'team/app', chartTgz({ version: '1.0.0' }), '1.0.0');
  const res = await app.inject({ method: 'GET', url: '/chartrepo/team/index.yaml' });
  t.equal(res.headers['content-type'], 'application/json');
  t.equal(JSON.parse(res.body).entries.app[0].version, '1.0.0');
});

t.test('oci:// URLs in the index when configured, naming the host the client used', async (t) => {
  const { app } = await buildTestApp(t, { 'charts.indexUrls': 'oci' });
  await pushChart(app, 'team/app', chartTgz({ version: '1.0.0+build.1' }), '1.0.0+build.1');
  const res = await app.inject({ method: 'GET', url: '/chartrepo/team/index.yaml', headers: { host: 'charts.example.com:5000' } });
  t.same(parseYaml(res.body).entries.app[0].urls, ['oci://charts.example.com:5000/team/app:1.0.0_build.1']);
  const other = await app.inject({ method: 'GET', url: '/chartrepo/team/index.yaml', headers: { host: 'other.example.com' } });
  t.same(parseYaml(other.body).entries.app[0].urls, ['oci://other.example.com/team/app:1.0.0_build.1']);
  t.not(other.headers.etag, res.headers.etag, 'each host has its own validator');
});

t.test('a namespace read in pages sees every visible version once, repositories contiguous', async (t) => {
  const { openMetadata } = await import('../../src/db/index.js');
  const { app, config } = await buildTestApp(t);
  const expected: string[] = [];
  for (const name of ['b', 'a', 'c']) {
    for (const version of ['1.0.0', '1.1.0', '2.0.0']) {
      await pushChart(app, `team/${name}`, chartTgz({ name, version }), version);
      expected.push(`team/${name} ${version}`);
    }
  }
  await app.inject({ method: 'DELETE', url: '/v2/team/a/manifests/1.1.0' });
  expected.splice(expected.indexOf('team/a 1.1.0'), 1);
  const metadata = await openMetadata(config);
  t.teardown(() => metadata.close());
  for (const limit of [1, 2, 5, 100]) {
    const seen: string[] = [];
    let cursor;
    do {
      const page = await metadata.listChartVersionPage('team', cursor, limit);
      seen.push(...page.versions.map((v) => `${v.repository} ${v.version}`));
      cursor = page.next;
    } while (cursor);
    t.same([...seen].sort(), [...expected].sort(), `limit ${limit}: every visible version once`);
    const order = seen.map((s) => s.split(' ')[0]);
    t.same(order.filter((r, i) => i === 0 || order[i - 1] !== r).length, 3, `limit ${limit}: each repository in one run`);
  }
});
