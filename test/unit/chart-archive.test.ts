import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { createReadStream } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import t from 'tap';
import { readChartArchive } from '../../src/charts/archive.js';
import { parseChartYaml, versionTag } from '../../src/charts/chart-yaml.js';
import { chartTgz, tar } from '../helpers/charts.js';

const limits = { maxUnpackedBytes: 1024 * 1024, maxFileBytes: 64 * 1024 };
const read = (bytes: Buffer, overrides = {}) => readChartArchive(Readable.from([bytes]), { ...limits, ...overrides });

t.test('a chart archive gives its Chart.yaml, README and values', async (t) => {
  const files = await read(chartTgz({ name: 'web', readme: '# Web\n' }));
  t.equal(files.directory, 'web');
  t.match(files.chartYaml, /name: web/);
  t.equal(files.readme, '# Web\n');
  t.match(files.values, /replicaCount: 1/);
  const meta = parseChartYaml(files.chartYaml);
  t.same(
    { name: meta.name, version: meta.version, appVersion: meta.appVersion, keywords: meta.keywords, maintainers: meta.maintainers },
    { name: 'web', version: '1.0.0', appVersion: '2.4.1', keywords: ['web', 'example'], maintainers: [{ name: 'Ada', email: 'ada@example.com' }] },
  );
});

t.test("a subchart's files are not the chart's", async (t) => {
  const files = await read(
    chartTgz({ extra: [{ path: 'app/charts/sub/Chart.yaml', content: 'apiVersion: v2\nname: sub\nversion: 9.9.9\n' }] }),
  );
  t.equal(parseChartYaml(files.chartYaml).name, 'app');
});

t.test('broken archives are refused with a message that says why', async (t) => {
  await t.rejects(read(randomBytes(1000)), { name: 'ChartError', message: /not a valid gzip archive/ });
  await t.rejects(read(gzipSync(randomBytes(2000))), { name: 'ChartError', message: /not a valid tar archive/ });
  await t.rejects(read(gzipSync(tar([{ path: 'app/values.yaml', content: 'a: 1' }]))), { message: /has no app\/Chart.yaml/ });
  await t.rejects(read(gzipSync(tar([]))), { message: /empty|not a valid tar archive/ });
  await t.rejects(
    read(gzipSync(tar([{ path: 'app/Chart.yaml', content: 'x' }, { path: '../../etc/passwd', content: 'root' }]))),
    { message: /unsafe path/ },
  );
  await t.rejects(read(gzipSync(tar([{ path: '/abs/Chart.yaml', content: 'x' }]))), { message: /unsafe path/ });
  await t.rejects(
    read(gzipSync(tar([{ path: 'a/Chart.yaml', content: 'x' }, { path: 'b/Chart.yaml', content: 'y' }]))),
    { message: /one top-level folder/ },
  );
  await t.rejects(read(chartTgz({ readme: 'x'.repeat(70 * 1024) })), { message: /README.md is larger than 65536 bytes/ });
  const bomb = gzipSync(tar([{ path: 'app/Chart.yaml', content: 'name: app' }, { path: 'app/zeros', content: Buffer.alloc(4 * 1024 * 1024) }]));
  t.ok(bomb.length < 10_000, `a ${bomb.length}-byte bomb`);
  await t.rejects(read(bomb), { message: /unpacks to more than 1048576 bytes/ });
});

t.test('Chart.yaml rules', async (t) => {
  t.equal(parseChartYaml('apiVersion: v2\nname: a\nversion: 1.0.0\nappVersion: 1.10\n').appVersion, '1.10', 'a numeric appVersion keeps its text');
  t.notOk('unknown' in parseChartYaml('apiVersion: v2\nname: a\nversion: 1.0.0\nunknown: x\n'), 'unknown fields dropped');
  t.same(
    parseChartYaml('apiVersion: v2\nname: a\nversion: 1.0.0\nannotations:\n  category: demo\n  x/y: "1"\nmaintainers:\n  - name: Ada\n    extra: 1\n'),
    { apiVersion: 'v2', name: 'a', version: '1.0.0', annotations: { category: 'demo', 'x/y': '1' }, maintainers: [{ name: 'Ada' }] },
    'annotations keep every key; unknown maintainer fields go',
  );
  const cases: [string, RegExp][] = [
    ['name: a\nversion: 1.0.0\n', /apiVersion is required/],
    ['apiVersion: v2\nversion: 1.0.0\n', /name is required/],
    ['apiVersion: v2\nname: a\n', /version is required/],
    ['apiVersion: v2\nname: a\nversion: 1.0\n', /must be a string/],
    ['apiVersion: v2\nname: a\nversion: latest\n', /not a semantic version/],
    ['apiVersion: v3\nname: a\nversion: 1.0.0\n', /apiVersion/],
    ['apiVersion: v2\nname: ../a\nversion: 1.0.0\n', /name/],
    ['apiVersion: v2\nname: a\nversion: 1.0.0\nkeywords: web\n', /keywords must be array/],
    ['- a\n- b\n', /must be a mapping/],
    ['apiVersion: v2\nname: [\n', /not valid YAML/],
    [`a: &a [1]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n`, /not valid YAML/],
  ];
  for (const [yaml, message] of cases) t.throws(() => parseChartYaml(yaml), { name: 'ChartError', message }, yaml.slice(0, 40));
  t.equal(versionTag('1.0.0+build.1'), '1.0.0_build.1');
});

// Found by reliability/fuzz.ts: a 300 KB upload of a chart followed by 300 MiB of zeros kept the
// tar parser busy for minutes (its cost grows with the square of what follows the archive's end).
t.test('nothing after the end of the archive is unpacked (a gzip bomb behind a small chart)', async (t) => {
  const archive = tar([{ path: 'bomb/Chart.yaml', content: 'apiVersion: v2\nname: bomb\nversion: 1.0.0\n' }]);
  const bomb = gzipSync(Buffer.concat([archive, Buffer.alloc(200 * 1024 * 1024)]), { level: 9 });
  let pulled = 0;
  const chunk = 16 * 1024;
  const source = Readable.from(
    (function* () {
      for (let offset = 0; offset < bomb.length; offset += chunk) {
        pulled += 1;
        yield bomb.subarray(offset, offset + chunk);
      }
    })(),
  );
  const files = await readChartArchive(source, { maxUnpackedBytes: 256 * 1024 * 1024, maxFileBytes: 64 * 1024 });
  t.equal(files.directory, 'bomb', 'the chart before the end of the archive is read');
  t.ok(pulled < Math.ceil(bomb.length / chunk) / 2, `reading stopped at the end of the archive (${pulled} of ${Math.ceil(bomb.length / chunk)} chunks)`);
});

t.test('a package helm made, read from a file, is read whole every time (the stop at end-of-archive is no error)', async (t) => {
  // `helm create smoke && helm package smoke` (Helm 3.17.3); its reader reported a premature close
  // after the end-of-archive on some Node versions and timings.
  const file = fileURLToPath(new URL('../fixtures/helm-create-smoke-0.1.0.tgz', import.meta.url));
  for (let i = 0; i < 20; i++) {
    const read = await readChartArchive(createReadStream(file), { maxUnpackedBytes: 1 << 24, maxFileBytes: 1 << 20 });
    if (read.directory !== 'smoke' || !read.chartYaml.includes('name: smoke')) t.fail(`read ${i}: ${read.directory}`);
  }
  t.pass('20 reads from a file stream');
});
