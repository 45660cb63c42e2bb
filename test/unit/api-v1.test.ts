import t from 'tap';
import { chartTgz, pushChart } from '../helpers/charts.js';
import { errorCode, sha256 } from '../helpers/oci.js';
import { buildTestApp } from '../helpers/server.js';

t.test('namespaces, charts, versions, README and values', async (t) => {
  const { app } = await buildTestApp(t);
  await pushChart(app, 'team/app', chartTgz({ name: 'app', version: '1.0.0' }), '1.0.0', { created: '2026-01-01T00:00:00Z' });
  await pushChart(app, 'team/app', chartTgz({ name: 'app', version: '1.1.0' }), '1.1.0', { created: '2026-02-01T00:00:00Z' });
  await pushChart(app, 'team/app', chartTgz({ name: 'app', version: '2.0.0-beta.1' }), '2.0.0-beta.1', { created: '2026-03-01T00:00:00Z' });
  await pushChart(app, 'team/db', chartTgz({ name: 'db', version: '0.1.0', readme: '# DB\n', values: 'size: 10Gi\n' }), '0.1.0', {
    created: '2026-04-01T00:00:00Z',
  });
  await pushChart(app, 'web', chartTgz({ name: 'web', version: '3.0.0' }), '3.0.0', { created: '2026-05-01T00:00:00Z' });

  const namespaces = await app.inject({ method: 'GET', url: '/api/v1/namespaces' });
  t.same(JSON.parse(namespaces.body), { namespaces: [{ namespace: '', charts: 1 }, { namespace: 'team', charts: 2 }] });

  const team = JSON.parse((await app.inject({ method: 'GET', url: '/api/v1/charts?namespace=team' })).body).charts;
  t.same(team.map((c: { repository: string }) => c.repository), ['team/app', 'team/db']);
  t.match(team[0], { name: 'app', latestVersion: '1.1.0', appVersion: '2.4.1', versionCount: 3, updated: '2026-03-01T00:00:00.000Z' }, 'latest skips prereleases');
  const byUpdate = JSON.parse((await app.inject({ method: 'GET', url: '/api/v1/charts?sort=updated' })).body).charts;
  t.same(byUpdate.map((c: { repository: string }) => c.repository).slice(0, 2), ['web', 'team/db'], 'all namespaces, last push first');

  const chart = JSON.parse((await app.inject({ method: 'GET', url: '/api/v1/charts/team/app' })).body);
  t.same(chart.versions.map((v: { version: string }) => v.version), ['2.0.0-beta.1', '1.1.0', '1.0.0']);
  t.equal(chart.versions[1].digest, sha256(chartTgz({ name: 'app', version: '1.1.0' })));

  const version = JSON.parse((await app.inject({ method: 'GET', url: '/api/v1/charts/team/db/versions/0.1.0' })).body);
  t.match(version, { repository: 'team/db', namespace: 'team', version: '0.1.0', file: '/chartrepo/team/charts/db-0.1.0.tgz', hasReadme: true, hasValues: true });
  t.match(version.oci, /^oci:\/\/.+\/team\/db$/);
  t.equal(version.metadata.description, 'An example application');

  const readme = await app.inject({ method: 'GET', url: '/api/v1/charts/team/db/versions/0.1.0/readme' });
  t.equal(readme.body, '# DB\n');
  t.match(readme.headers['content-type'], /text\/markdown/);
  const values = await app.inject({ method: 'GET', url: '/api/v1/charts/team/db/versions/0.1.0/values' });
  t.equal(values.body, 'size: 10Gi\n');
  const schema = await app.inject({ method: 'GET', url: '/api/v1/charts/team/db/versions/0.1.0/values-schema' });
  t.equal(schema.statusCode, 404, 'no schema in this chart');
});

t.test('unknown and malformed', async (t) => {
  const { app } = await buildTestApp(t);
  await pushChart(app, 'team/app', chartTgz({ version: '1.0.0' }), '1.0.0');
  const cases: [string, number, string][] = [
    ['/api/v1/charts/team/nothing', 404, 'NAME_UNKNOWN'],
    ['/api/v1/charts/team/app/versions/9.9.9', 404, 'MANIFEST_UNKNOWN'],
    ['/api/v1/charts/Team/App', 400, 'NAME_INVALID'],
    ['/api/v1/charts?namespace=Bad!', 400, 'NAME_INVALID'],
    ['/api/v1/charts?sort=size', 400, 'BAD_REQUEST'],
  ];
  for (const [url, status, code] of cases) {
    const res = await app.inject({ method: 'GET', url });
    t.equal(res.statusCode, status, url);
    t.equal(errorCode(res), code, url);
  }
  const deleted = await app.inject({ method: 'DELETE', url: '/v2/team/app/manifests/1.0.0' });
  t.equal(deleted.statusCode, 202);
  t.equal((await app.inject({ method: 'GET', url: '/api/v1/charts/team/app' })).statusCode, 404, 'a deleted version is gone from the API');
});

t.test('chart lists a page at a time, with the total', async (t) => {
  const { app } = await buildTestApp(t);
  for (const name of ['a', 'b', 'c', 'd', 'e']) await pushChart(app, `team/${name}`, chartTgz({ name, version: '1.0.0' }), '1.0.0');
  const page = async (query: string) => JSON.parse((await app.inject({ method: 'GET', url: `/api/v1/charts?${query}` })).body);
  const names = (body: { charts: { name: string }[] }) => body.charts.map((c) => c.name);
  t.same(names(await page('limit=2')), ['a', 'b']);
  t.same(names(await page('offset=2&limit=2')), ['c', 'd']);
  t.same(names(await page('offset=4&limit=2')), ['e']);
  t.same(names(await page('offset=3')), ['d', 'e'], 'without a limit, the rest');
  t.equal((await page('offset=2&limit=2')).total, 5, 'the total counts every chart');
  t.equal((await page('')).total, 5);
  for (const bad of ['limit=0', 'limit=-1', 'offset=x', 'limit=1.5']) {
    const res = await app.inject({ method: 'GET', url: `/api/v1/charts?${bad}` });
    t.equal(res.statusCode, 400, bad);
    t.equal(errorCode(res), 'BAD_REQUEST', bad);
  }
});

t.test('chart lists follow pushes and deletes at once', async (t) => {
  const { app } = await buildTestApp(t);
  const list = async (query = '') => JSON.parse((await app.inject({ method: 'GET', url: `/api/v1/charts${query}` })).body);
  await pushChart(app, 'team/a', chartTgz({ name: 'a', version: '1.0.0' }), '1.0.0');
  t.same((await list()).charts.map((c: { repository: string }) => c.repository), ['team/a']);
  await pushChart(app, 'team/b', chartTgz({ name: 'b', version: '1.0.0' }), '1.0.0');
  await pushChart(app, 'team/a', chartTgz({ name: 'a', version: '1.1.0' }), '1.1.0');
  t.match((await list()).charts, [{ repository: 'team/a', latestVersion: '1.1.0', versionCount: 2 }, { repository: 'team/b' }], 'a new chart and a new version');
  t.equal((await app.inject({ method: 'DELETE', url: '/v2/team/b/manifests/1.0.0' })).statusCode, 202);
  t.same((await list('?namespace=team')).charts.map((c: { repository: string }) => c.repository), ['team/a'], 'a deleted chart is gone');
  t.same(JSON.parse((await app.inject({ method: 'GET', url: '/api/v1/namespaces' })).body).namespaces, [{ namespace: 'team', charts: 1 }]);
});
