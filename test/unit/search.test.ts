import t from 'tap';
import type { FastifyInstance } from 'fastify';
import semver from 'semver';
import { rangeMajors } from '../../src/charts/versions.js';
import { openMetadata } from '../../src/db/index.js';
import { editDistance, nearestWords } from '../../src/search/fuzzy.js';
import { highlight, snippet } from '../../src/search/highlight.js';
import { queryWords } from '../../src/search/query.js';
import { basic, exampleAuth } from '../helpers/auth.js';
import { chartTgz, pushChart } from '../helpers/charts.js';
import { errorCode } from '../helpers/oci.js';
import { buildTestApp, tempDataDir } from '../helpers/server.js';
import { join } from 'node:path';

interface Fields {
  description?: string;
  keywords?: string[];
  maintainers?: { name: string; email?: string }[];
  appVersion?: string;
  deprecated?: boolean;
  annotations?: Record<string, string>;
  readme?: string;
}

/** Pushes `repository` (its last segment is the chart's name) at `version` with these Chart.yaml fields. */
async function push(app: FastifyInstance, repository: string, version: string, fields: Fields = {}): Promise<void> {
  const name = repository.split('/').pop() as string;
  const chartYaml = JSON.stringify({
    apiVersion: 'v2',
    name,
    version,
    appVersion: fields.appVersion ?? '1.0',
    description: fields.description ?? `The ${name} chart`,
    keywords: fields.keywords ?? [],
    maintainers: fields.maintainers ?? [],
    deprecated: fields.deprecated ?? false,
    annotations: fields.annotations ?? {},
  });
  const tgz = chartTgz({ name, version, chartYaml, readme: fields.readme ?? `# ${name}\n` });
  const { res } = await pushChart(app, repository, tgz, version);
  if (res.statusCode !== 201) throw new Error(`push ${repository}:${version}: ${res.statusCode} ${res.body}`);
}

interface Result {
  repository: string;
  version: string;
  deprecated: boolean;
  description?: string;
  highlights: Record<string, string>;
  versions?: { version: string; deprecated: boolean }[];
}

interface Response {
  total: number;
  page: number;
  limit: number;
  fuzzy: boolean;
  results: Result[];
}

async function search(app: FastifyInstance, query: string, headers: Record<string, string> = {}): Promise<Response> {
  const res = await app.inject({ method: 'GET', url: `/api/v1/search?${query}`, headers });
  if (res.statusCode !== 200) throw new Error(`search ${query}: ${res.statusCode} ${res.body}`);
  return JSON.parse(res.body) as Response;
}

const repositories = (response: Response) => response.results.map((r) => r.repository);

t.test('ranking: exact name, then name prefix, then the weighted text match', async (t) => {
  const { app } = await buildTestApp(t);
  await push(app, 'team/proxy', '1.0.0', { readme: '# proxy\n\nPuts nginx in front of your app.\n' });
  await push(app, 'team/web', '1.0.0', { description: 'A web server built on nginx' });
  await push(app, 'team/edge', '1.0.0', { keywords: ['nginx', 'edge'] });
  await push(app, 'team/nginx-ingress', '1.0.0');
  await push(app, 'other/nginx', '1.0.0');
  await push(app, 'team/nginx', '1.0.0');

  t.same(repositories(await search(app, 'q=nginx')), [
    'other/nginx',
    'team/nginx',
    'team/nginx-ingress',
    'team/edge',
    'team/web',
    'team/proxy',
  ], 'exact names (by repository), the prefix name, then keywords over description over README');
  const prefix = await search(app, 'q=ngin');
  t.equal(prefix.total, 6, 'a word prefix matches');
  t.same(repositories(prefix).slice(0, 3).sort(), ['other/nginx', 'team/nginx', 'team/nginx-ingress'], 'names starting with the query first');
  t.same(repositories(await search(app, 'q=nginx%20ingress')), ['team/nginx-ingress'], 'every word must match');
  t.same(repositories(await search(app, 'q=NGINX-Ingress')), ['team/nginx-ingress'], 'case and punctuation do not matter');

  const top = (await search(app, 'q=nginx')).results[0] as Result;
  t.same(top.highlights, { name: '<mark>nginx</mark>', description: 'The <mark>nginx</mark> chart', readme: '# <mark>nginx</mark>\n' }, 'matches are marked');
  const web = (await search(app, 'q=nginx&repo=team/web')).results[0] as Result;
  t.equal(web.highlights.description, 'A web server built on <mark>nginx</mark>');
});

t.test('a chart is found by each field it is indexed on', async (t) => {
  const { app } = await buildTestApp(t);
  await push(app, 'team/app', '1.0.0', {
    description: 'Queue consumer',
    keywords: ['messaging'],
    maintainers: [{ name: 'Grace Hopper', email: 'grace@example.com' }],
    annotations: { category: 'Streaming' },
    appVersion: '7.3.1-zeta',
    readme: '# app\n\nConfigure the kafkaesque broker.\n',
  });
  for (const q of ['app', 'queue', 'messaging', 'hopper', 'streaming', 'zeta', 'kafkaesque', 'team']) {
    t.same(repositories(await search(app, `q=${q}`)), ['team/app'], q);
  }
  t.equal((await search(app, 'q=absent')).total, 0);
  t.equal((await search(app, 'q=café')).total, 0, 'accents tokenize without error');
});

t.test('filters: repository prefix, keyword, maintainer, version range, prerelease, deprecated', async (t) => {
  const { app } = await buildTestApp(t);
  await push(app, 'team/api', '1.0.0', { keywords: ['Networking'], maintainers: [{ name: 'Ada', email: 'ada@example.com' }] });
  await push(app, 'team/api', '2.1.0', { keywords: ['Networking'], maintainers: [{ name: 'Ada', email: 'ada@example.com' }] });
  await push(app, 'team/api', '3.0.0-rc.1', { keywords: ['networking'] });
  await push(app, 'teamx/db', '1.5.0', { keywords: ['storage'], maintainers: [{ name: 'Bob' }] });
  await push(app, 'ops/beta', '0.1.0-alpha.1');
  await push(app, 'ops/old', '1.0.0', { deprecated: true, description: 'Use team/api instead' });

  t.same(repositories(await search(app, 'repo=team/')), ['team/api'], 'a prefix ending in a slash stays in that namespace');
  t.same(repositories(await search(app, 'repo=team')), ['team/api', 'teamx/db'], 'a plain prefix');
  t.same(repositories(await search(app, 'keyword=NETWORKING')), ['team/api'], 'keywords compare without case');
  t.same(repositories(await search(app, 'keyword=network')), [], 'a keyword matches whole');
  t.same(repositories(await search(app, 'maintainer=ada')), ['team/api']);
  t.same(repositories(await search(app, 'maintainer=ada@example.com')), ['team/api'], 'or by email');
  t.same(repositories(await search(app, 'maintainer=bob')), ['teamx/db']);

  const latest = await search(app, 'repo=team/');
  t.equal(latest.results[0]?.version, '2.1.0', 'the latest stable version by default');
  const withPre = await search(app, 'repo=team/&prerelease=true');
  t.equal(withPre.results[0]?.version, '3.0.0-rc.1', 'prereleases on request');
  t.same(repositories(await search(app, 'repo=ops/')), [], 'a chart with only prereleases is hidden, and so is a deprecated one');
  t.same(repositories(await search(app, 'repo=ops/&prerelease=true')), ['ops/beta']);
  const deprecated = await search(app, 'repo=ops/&deprecated=true&versions=true');
  t.same(repositories(deprecated), ['ops/old'], 'deprecated charts on request');
  t.same([deprecated.results[0]?.deprecated, deprecated.results[0]?.versions?.[0]?.deprecated], [true, true], 'flagged deprecated, chart and version');
  t.equal(latest.results[0]?.deprecated, false, 'a current chart is not');

  const range = await search(app, 'version=%5E1&q=api');
  t.equal(range.results[0]?.version, '1.0.0', 'the newest version in the range is the one shown');
  t.same(repositories(await search(app, 'version=>=1.2.0%20<2')), ['teamx/db']);
  t.same(repositories(await search(app, 'version=^3')), [], 'a range does not match prereleases unless asked');
  t.equal((await search(app, 'version=^3&prerelease=true')).results[0]?.version, '3.0.0-rc.1');
  t.same(repositories(await search(app, 'version=>=3.0.0-rc.0')), ['team/api'], 'or the range names a prerelease');

  const all = await search(app, 'q=api&versions=true');
  t.same(all.results[0]?.versions?.map((v) => v.version), ['3.0.0-rc.1', '2.1.0', '1.0.0'], 'every version on request, newest first');
  t.notOk((await search(app, 'q=api')).results[0]?.versions, 'versions left out by default');
});

t.test('paging is stable and capped', async (t) => {
  const { app } = await buildTestApp(t);
  for (let i = 0; i < 25; i++) await push(app, `team/svc${String(i).padStart(2, '0')}`, '1.0.0', { description: 'service' });
  const first = await search(app, 'q=service&limit=10');
  const second = await search(app, 'q=service&limit=10&page=2');
  const third = await search(app, 'q=service&limit=10&page=3');
  t.equal(first.total, 25);
  t.same([first.results.length, second.results.length, third.results.length], [10, 10, 5]);
  const seen = [...repositories(first), ...repositories(second), ...repositories(third)];
  t.equal(new Set(seen).size, 25, 'no chart on two pages');
  t.same(repositories(await search(app, 'q=service&limit=10&page=2')), repositories(second), 'the same page twice');
  const past = await search(app, 'q=service&page=9');
  t.same([past.results, past.total], [[], 25], 'past the end is empty, and the total is still known');
  const capped = await search(app, 'q=service&limit=5000');
  t.equal(capped.limit, 100, 'the page size is capped');
  t.equal((await search(app, '')).limit, 20, 'default page size');
});

t.test('typos in short names still find the chart', async (t) => {
  const { app } = await buildTestApp(t);
  await push(app, 'team/nginx', '1.0.0');
  await push(app, 'team/redis', '1.0.0');
  await push(app, 'team/postgresql', '1.0.0');
  for (const [typo, expected] of [['ngnix', 'team/nginx'], ['rdis', 'team/redis'], ['postgersql', 'team/postgresql']] as const) {
    const found = await search(app, `q=${typo}`);
    t.same(repositories(found), [expected], typo);
    t.equal(found.fuzzy, true);
  }
  t.equal((await search(app, 'q=nginx')).fuzzy, false, 'an exact match is not fuzzy');
  t.equal((await search(app, 'q=zzzzzz')).total, 0, 'nothing near');
  t.same(nearestWords('ngnix', ['nginx', 'nodejs', 'ngx']), ['nginx']);
  t.equal(editDistance('kitten', 'sitting', 5), 3);
  t.equal(editDistance('ab', 'ba', 2), 1, 'a transposition is one slip');
  t.equal(editDistance('a', 'abcdef', 2), 3, 'gives up past the limit');
});

t.test('FTS syntax and huge input are plain words, never an error', async (t) => {
  const { app } = await buildTestApp(t);
  await push(app, 'team/near', '1.0.0', { description: 'Handles AND OR NOT queries' });
  const hostile = [
    '"', '""', '"unbalanced', '(', ')', '((a)', 'NEAR(a b)', 'NEAR', 'a*', '*', '^a', 'a:b', 'name:near', '{name}: near',
    '- near', 'AND', 'OR OR', 'NOT', 'a + b', "'; DROP TABLE charts; --", '\u0000', '\u0001near\u0002', '%', 'x'.repeat(10_000),
    `${'near '.repeat(2000)}`, '🙂', '\\', '[near]',
  ];
  for (const q of hostile) {
    const res = await app.inject({ method: 'GET', url: `/api/v1/search?q=${encodeURIComponent(q)}` });
    t.equal(res.statusCode, 200, JSON.stringify(q.slice(0, 40)));
  }
  t.same(repositories(await search(app, `q=${encodeURIComponent('NEAR(')}`)), ['team/near'], 'NEAR is a word');
  t.same(repositories(await search(app, `q=${encodeURIComponent('"and" OR')}`)), ['team/near'], 'operators are words');
  t.same(queryWords('Foo-bar "BAZ"* (foo)'), ['foo', 'bar', 'baz']);
  t.equal(queryWords('w '.repeat(100) + 'a b c d e f g h i j k l m n o p q r').length, 16, 'at most 16 words');
  const monocular = await app.inject({ method: 'GET', url: `/api/chartsvc/v1/charts/search?q=${encodeURIComponent('"(NEAR*')}` });
  t.equal(monocular.statusCode, 200);
});

t.test('bad filters are a 400 naming the field', async (t) => {
  const { app } = await buildTestApp(t);
  const cases: [string, string][] = [
    ['version=not-a-range', 'version'],
    ['page=0', 'page'],
    ['page=-1', 'page'],
    ['page=abc', 'page'],
    ['page=99999999', 'page'],
    ['limit=0', 'limit'],
    ['limit=1.5', 'limit'],
    ['prerelease=yes', 'prerelease'],
    ['deprecated=1', 'deprecated'],
    ['versions=maybe', 'versions'],
    ['q=a&q=b', 'q'],
    [`repo=${'a'.repeat(300)}`, 'repo'],
    [`keyword=${'k'.repeat(300)}`, 'keyword'],
  ];
  for (const [query, field] of cases) {
    const res = await app.inject({ method: 'GET', url: `/api/v1/search?${query}` });
    t.equal(res.statusCode, 400, query.slice(0, 40));
    t.equal(errorCode(res), 'BAD_REQUEST');
    t.same(JSON.parse(res.body).errors[0].detail, { field }, query.slice(0, 40));
  }
});

t.test('the index follows pushes, tag moves and deletes in the same transaction', async (t) => {
  const { app } = await buildTestApp(t, { 'charts.allowOverwrite': true });
  await push(app, 'team/app', '1.0.0', { description: 'first words' });
  t.same(repositories(await search(app, 'q=first')), ['team/app']);
  await push(app, 'team/app', '2.0.0', { description: 'second words' });
  t.same(repositories(await search(app, 'q=first')), [], 'the text is the latest version’s');
  t.same(repositories(await search(app, 'q=second')), ['team/app']);
  await push(app, 'team/app', '1.5.0', { description: 'older words' });
  t.same(repositories(await search(app, 'q=older')), [], 'an older version does not replace the text');
  t.same((await search(app, 'q=app&versions=true')).results[0]?.versions?.map((v) => v.version), ['2.0.0', '1.5.0', '1.0.0']);
  await push(app, 'team/app', '2.0.0', { description: 'overwritten words' });
  t.same(repositories(await search(app, 'q=overwritten')), ['team/app'], 'an overwritten version is re-indexed');

  t.equal((await app.inject({ method: 'DELETE', url: '/v2/team/app/manifests/2.0.0' })).statusCode, 202);
  t.same(repositories(await search(app, 'q=older')), ['team/app'], 'deleting the latest tag brings back the previous version’s text');
  const manifest = await app.inject({ method: 'HEAD', url: '/v2/team/app/manifests/1.5.0' });
  const digest = manifest.headers['docker-content-digest'] as string;
  t.equal((await app.inject({ method: 'DELETE', url: `/v2/team/app/manifests/${digest}` })).statusCode, 202);
  t.same(repositories(await search(app, 'q=first')), ['team/app'], 'deleting a manifest moves on too');
  t.equal((await app.inject({ method: 'DELETE', url: '/v2/team/app/manifests/1.0.0' })).statusCode, 202);
  t.equal((await search(app, 'q=app')).total, 0, 'no visible version, no hit');
  t.equal((await search(app, '')).total, 0);
});

t.test('results honour the access rules', async (t) => {
  const dataDir = tempDataDir(t);
  const { app: open } = await buildTestApp(t, {}, dataDir);
  await push(open, 'team/api', '1.0.0', { description: 'shared service' });
  await push(open, 'secret/vault', '1.0.0', { description: 'shared service' });
  await push(open, 'public/site', '1.0.0', { description: 'shared service' });
  await open.close();

  const { app } = await buildTestApp(t, exampleAuth, dataDir);
  t.same(repositories(await search(app, 'q=shared')), ['public/site'], 'anonymous finds only what it may pull');
  t.same(repositories(await search(app, 'q=shared', { authorization: basic('paul') })).sort(), ['public/site', 'team/api']);
  t.same(repositories(await search(app, 'q=shared', { authorization: basic('olga') })).sort(), ['public/site', 'secret/vault', 'team/api']);
  t.equal((await search(app, 'q=shared', { authorization: basic('paul') })).total, 2, 'the total counts only visible charts');
  const hub = await app.inject({ method: 'GET', url: '/api/chartsvc/v1/charts/search?q=vault' });
  t.same(JSON.parse(hub.body), { data: [] }, 'helm search hub (anonymous) does not see it either');
  const wrong = await app.inject({ method: 'GET', url: '/api/v1/search?q=shared', headers: { authorization: basic('paul', 'wrong') } });
  t.equal(wrong.statusCode, 401, 'bad credentials are refused, not treated as anonymous');
});

t.test('the Monocular shape helm search hub reads', async (t) => {
  const { app } = await buildTestApp(t);
  await push(app, 'team/nginx', '1.2.0', { description: 'Web server', appVersion: '1.25.3', keywords: ['web'] });
  await push(app, 'top', '0.3.0');
  const res = await app.inject({ method: 'GET', url: '/api/chartsvc/v1/charts/search?q=nginx', headers: { host: 'charts.example.com' } });
  t.equal(res.statusCode, 200);
  const body = JSON.parse(res.body);
  t.match(body.data, [
    {
      id: 'team/nginx',
      artifactHub: { packageUrl: 'http://charts.example.com/charts/team/nginx' },
      attributes: { name: 'nginx', repo: { name: 'team', url: 'http://charts.example.com/chartrepo/team' }, description: 'Web server', keywords: ['web'] },
      relationships: {
        latestChartVersion: {
          data: { version: '1.2.0', app_version: '1.25.3', urls: ['http://charts.example.com/chartrepo/team/charts/nginx-1.2.0.tgz'] },
        },
      },
    },
  ]);
  const page = await app.inject({ method: 'GET', url: '/charts/team/nginx' });
  t.match(page.headers['content-type'], /^text\/html/, "the packageUrl leads to the chart's page in the web UI (test/unit/ui.test.ts)");
  const all = JSON.parse((await app.inject({ method: 'GET', url: '/api/chartsvc/v1/charts/search' })).body);
  t.same(all.data.map((d: { id: string }) => d.id), ['team/nginx', 'top'], 'no words lists every chart');
  t.equal(all.data[1].relationships.latestChartVersion.data.urls[0], 'http://localhost:80/chartrepo/charts/top-0.3.0.tgz', 'top-level charts');
});

t.test('the index is built for an existing database and rebuilt on demand', async (t) => {
  const dataDir = tempDataDir(t);
  const { app, config } = await buildTestApp(t, {}, dataDir);
  await push(app, 'team/api', '1.0.0');
  await push(app, 'team/db', '1.0.0');
  const before = await search(app, 'q=team');
  await app.close();

  const everything = { terms: [], nameKey: '', includeDeprecated: true, includePrerelease: true, offset: 0, limit: 10, withReadme: false, withVersions: false };
  const off = await openMetadata({ ...config, charts: { ...config.charts, search: false } });
  t.equal((await off.searchCharts(everything)).total, 0, 'with the index turned off, it is dropped');
  await off.close();
  const on = await openMetadata(config);
  t.equal((await on.searchCharts(everything)).total, 2, 'turned on again, it is rebuilt when the database opens');
  t.equal(await on.rebuildSearchIndex(), 2, 'a rebuild counts the charts');
  await on.close();

  // A database from before search existed: charts, no index. Opening it builds the index.
  if (config.metadata.driver === 'sqlite') {
    const { default: Database } = await import('better-sqlite3');
    const raw = new Database(join(dataDir, 'chartroom.db'));
    raw.exec('DELETE FROM chart_search; DELETE FROM chart_fts;');
    raw.close();
  } else {
    const { default: pg } = await import('pg');
    const raw = new pg.Client({ connectionString: config.metadata.url });
    await raw.connect();
    await raw.query('DELETE FROM chart_search');
    await raw.end();
  }
  const { app: reopened } = await buildTestApp(t, {}, dataDir);
  t.same(await search(reopened, 'q=team'), before, 'the same results after the index is rebuilt at start');
});

t.test('search turned off answers 404', async (t) => {
  const { app } = await buildTestApp(t, { 'charts.search': false });
  await push(app, 'team/app', '1.0.0');
  for (const url of ['/api/v1/search?q=app', '/api/chartsvc/v1/charts/search?q=app']) {
    const res = await app.inject({ method: 'GET', url });
    t.equal(res.statusCode, 404, url);
    t.match(JSON.parse(res.body).errors[0].message, /search is turned off/);
  }
});

t.test('highlights mark whole words and prefixes, escape HTML, and cut long READMEs', async (t) => {
  const terms = [{ words: ['ngin', 'cafe'], prefix: true }];
  t.equal(highlight('<b>NGINX</b> & Café', terms), '&lt;b&gt;<mark>NGINX</mark>&lt;/b&gt; &amp; <mark>Café</mark>');
  t.equal(highlight('engine', terms), undefined, 'inside a word is no match');
  t.equal(highlight('nginx', [{ words: ['ngin'], prefix: false }]), undefined, 'a whole-word term needs the whole word');
  const long = `${'word '.repeat(100)}nginx ${'tail '.repeat(100)}`;
  const cut = snippet(long, terms) as string;
  t.match(cut, /^….*<mark>nginx<\/mark>.*…$/);
  t.ok(cut.split(' ').length < 30, 'about 24 words');
  t.equal(snippet('nginx is short', terms), '<mark>nginx</mark> is short', 'a short text is whole');
});

t.test('the major numbers a semver range allows', async (t) => {
  const cases: [string, number[] | undefined][] = [
    ['^2', [2]],
    ['^2.1.0', [2]],
    ['~1.4', [1]],
    ['1.x', [1]],
    ['>=1.2.0 <2', [1]],
    ['>=1.2.0 <=2.0.0', [1, 2]],
    ['<2.0.1', [0, 1, 2]],
    ['1.2.3', [1]],
    ['^1 || ^3', [1, 3]],
    ['>=1.0.0', undefined],
    ['*', undefined],
    ['^0.2', [0]],
  ];
  for (const [range, majors] of cases) t.same(rangeMajors(new semver.Range(range)), majors, range);
  t.same(rangeMajors(new semver.Range('^2', { includePrerelease: true })), [2], 'includePrerelease bounds below X.0.0-0');
});

t.test('a README is indexed up to its first 16 KiB', async (t) => {
  const { app } = await buildTestApp(t);
  await push(app, 'team/long', '1.0.0', { readme: `# long\n\nearlyword\n\n${'| param | value |\n'.repeat(1200)}\nlateword\n` });
  t.same(repositories(await search(app, 'q=earlyword')), ['team/long']);
  t.same(repositories(await search(app, 'q=lateword')), [], 'words past the indexed opening are not searched');
});

t.test('appVersion words are found beside the full-text index, alone or with other words', async (t) => {
  const { app } = await buildTestApp(t);
  await push(app, 'team/api', '1.0.0', { appVersion: 'v2.7.0-Alpine', description: 'An HTTP gateway' });
  await push(app, 'team/web', '1.0.0', { appVersion: '3.1.0', description: 'Serves alpine images' });
  await push(app, 'team/db', '1.0.0', { appVersion: '9.9.9' });
  t.same(repositories(await search(app, 'q=alpine')).sort(), ['team/api', 'team/web'], 'one word, found in an appVersion or in the text');
  t.same(repositories(await search(app, 'q=alp')).sort(), ['team/api', 'team/web'], 'a word prefix, in both');
  t.same(repositories(await search(app, 'q=gateway%20alpine')), ['team/api'], 'one word from the text, one from the appVersion');
  t.same(repositories(await search(app, 'q=v2%207')), ['team/api'], 'two words of one appVersion');
  t.same(repositories(await search(app, 'q=gateway%209')), [], 'every word must match the same chart');
  t.same(repositories(await search(app, 'q=alpine&repo=team/w')), ['team/web'], 'filters still apply');
  t.same(repositories(await search(app, 'q=alpine&version=^1')).sort(), ['team/api', 'team/web'], 'and so do version ranges');
  t.equal((await search(app, 'q=alpine&limit=1')).total, 2, 'the total counts every match');
  const hub = JSON.parse((await app.inject({ method: 'GET', url: '/api/chartsvc/v1/charts/search?q=gateway+v2' })).body);
  t.same(hub.data.map((d: { id: string }) => d.id), ['team/api'], 'helm search hub too');

  await push(app, 'team/api', '1.1.0', { appVersion: 'v2.8.0-debian', description: 'An HTTP gateway' });
  t.same(repositories(await search(app, 'q=debian')), ['team/api'], "the latest version's appVersion is searched");
  t.same(repositories(await search(app, 'q=alpine')), ['team/web'], 'the previous one is not');
  t.equal((await search(app, 'q=debian')).results[0]?.version, '1.1.0');
});

// What the embedded store writes: PostgreSQL's tsvector has no segments to count.
const sqliteOnly = process.env.CHARTROOM_TEST_METADATA === 'postgres' ? 'counts SQLite FTS5 segments' : false;

t.test('a new version whose text is unchanged but for its appVersion leaves the full-text index alone', { skip: sqliteOnly }, async (t) => {
  const { app, dataDir } = await buildTestApp(t);
  const { default: Database } = await import('better-sqlite3');
  // FTS5 stores each write as new rows of its %_data table (a segment and its structure record).
  const ftsRows = (): number => {
    const db = new Database(join(dataDir, 'chartroom.db'), { readonly: true });
    try {
      return (db.prepare('SELECT COUNT(*) AS n FROM chart_fts_data').get() as { n: number }).n;
    } finally {
      db.close();
    }
  };
  await push(app, 'team/app', '1.0.0', { appVersion: '1.0.0', description: 'Stays the same' });
  const before = ftsRows();
  await push(app, 'team/app', '1.1.0', { appVersion: '1.1.0', description: 'Stays the same' });
  await push(app, 'team/app', '1.2.0', { appVersion: '1.2.0-rc1', description: 'Stays the same' });
  t.equal(ftsRows(), before, 'no index write for new appVersions');
  t.same(repositories(await search(app, 'q=rc1')), ['team/app'], 'yet the new appVersion is found');
  await push(app, 'team/app', '1.3.0', { appVersion: '1.2.0-rc1', description: 'Says something new' });
  t.ok(ftsRows() > before, 'a new description is written to the index');
  t.same(repositories(await search(app, 'q=new')), ['team/app']);
  t.same(repositories(await search(app, 'q=same')), []);
});

t.test('numbers in an appVersion are found too, whole or as a prefix', async (t) => {
  const { app } = await buildTestApp(t);
  await push(app, 'team/api', '1.0.0', { appVersion: '1.25.3', description: 'An HTTP gateway' });
  await push(app, 'team/web', '1.0.0', { appVersion: '7.4.0', description: 'A web server' });
  t.same(repositories(await search(app, 'q=1.25.3')), ['team/api'], 'the whole appVersion');
  t.same(repositories(await search(app, 'q=gateway%2025')), ['team/api'], 'a number with a word of the text');
  t.same(repositories(await search(app, 'q=2')), ['team/api'], 'a prefix of a number (25)');
  t.same(repositories(await search(app, 'q=74')), [], 'numbers are whole words: 7.4 is not 74');
  await push(app, 'team/api', '1.1.0', { appVersion: '1.26.0', description: 'An HTTP gateway' });
  t.same(repositories(await search(app, 'q=26')), ['team/api']);
  t.same(repositories(await search(app, 'q=25')), [], 'the previous version’s numbers are gone');
});
