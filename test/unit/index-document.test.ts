import t from 'tap';
import { parse as parseYaml } from 'yaml';
import { assembleIndex, renderChart, type IndexEntry } from '../../src/charts/index-document.js';

const entry = (version: string, extra: Partial<IndexEntry> = {}): IndexEntry => ({
  apiVersion: 'v2',
  name: 'app',
  version,
  appVersion: '2.0',
  description: 'Line one\nline two: with "quotes" and a tab\t and \u2028 and \u0085',
  keywords: ['a', 'b'],
  maintainers: [{ name: 'Ada', email: 'ada@example.com' }],
  dependencies: [{ name: 'db', version: '^1.0.0', repository: 'oci://example.com/db', tags: [] }],
  annotations: { 'category': 'demo', 'weird key: yes': 'x' },
  deprecated: false,
  urls: [`charts/app-${version}.tgz`],
  created: '2026-01-02T03:04:05.000Z',
  digest: 'a'.repeat(64),
  ...extra,
});

t.test('YAML and JSON renderings of an index parse to the same document', async (t) => {
  const app = [entry('2.0.0'), entry('1.0.0', { keywords: [], annotations: {} })];
  const zed = [{ ...entry('0.1.0'), name: 'zed', urls: ['charts/zed-0.1.0.tgz'] }];
  const groups = (format: 'yaml' | 'json') => new Map([['zed', [renderChart(zed, format)]], ['app', [renderChart(app, format)]]]);
  const generated = new Date('2026-03-04T05:06:07Z');
  const yaml = parseYaml(assembleIndex(groups('yaml'), generated, 'yaml').toString(), { version: '1.1' });
  const json = JSON.parse(assembleIndex(groups('json'), generated, 'json').toString());
  t.same(yaml, json);
  t.equal(json.apiVersion, 'v1');
  t.same(Object.keys(json.entries), ['app', 'zed'], 'names sorted');
  t.same(json.entries.app.map((e: IndexEntry) => e.version), ['2.0.0', '1.0.0']);
  t.equal(json.entries.app[0].description, entry('1').description, 'awkward characters survive');
  t.same(json.entries.app[0].annotations, { category: 'demo', 'weird key: yes': 'x' });
  t.same(json.entries.app[1].keywords, []);
  t.equal(json.generated, '2026-03-04T05:06:07.000Z');
});

t.test('an empty index is still a valid document', async (t) => {
  const generated = new Date(0);
  t.same(parseYaml(assembleIndex(new Map(), generated, 'yaml').toString()), { apiVersion: 'v1', entries: {}, generated: '1970-01-01T00:00:00.000Z' });
  t.same(JSON.parse(assembleIndex(new Map(), generated, 'json').toString()).entries, {});
});

t.test('a name held by two repositories lists both pieces', async (t) => {
  const pieces = (format: 'yaml' | 'json') => new Map([['app', [renderChart([entry('2.0.0')], format), renderChart([entry('1.0.0')], format)]]]);
  const json = JSON.parse(assembleIndex(pieces('json'), new Date(0), 'json').toString());
  t.same(json.entries.app.map((e: IndexEntry) => e.version), ['2.0.0', '1.0.0']);
  t.same(parseYaml(assembleIndex(pieces('yaml'), new Date(0), 'yaml').toString()), json);
});
