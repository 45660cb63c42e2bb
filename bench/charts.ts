// Classic chart repository at scale: seeds one namespace with `--charts` × `--versions` chart
// versions through the OCI API, then measures /chartrepo/<ns>/index.yaml: the first response
// (rendered from SQLite), cached responses (gzip and plain), If-None-Match → 304, index.json, search,
// the first response after one more push (incremental invalidation), cold start on the seeded
// data and the first response after it, and RSS at rest. Validates the index it gets back.
//
//   npm run build && node --import=@tapjs/typescript/import bench/charts.ts [--charts 2000 --versions 25]
//
// Options: --concurrency N (pushes in flight, 16), --namespace NS (library), --samples N (cached
// requests per variant, 50), --restarts N (3), --data DIR (keep the data there; seeding is skipped
// when DIR already holds a database, handy when profiling), --profile (servers run with
// --cpu-prof; profiles are kept in bench/results/profiles-<time>/), --keep (keep the temp dir).
// Writes bench/results/charts-<time>.json.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { gunzipSync } from 'node:zlib';
import semver from 'semver';
import { parse as parseYaml } from 'yaml';
import { httpClient, stats, type HttpClient, type Stats, type Timed } from './http.js';
import { createClient } from './oci-client.js';
import { cpuSeconds, memoryMiB } from './proc.js';
import { chartArtifact, chartName, chartSpec, pushChartArtifact, seedCharts, type ChartVersionSpec, type SeedResult } from './seed-charts.js';
import { startChartroom, type RunningServer } from './servers.js';

const { values: options } = parseArgs({
  options: {
    charts: { type: 'string', default: '2000' },
    versions: { type: 'string', default: '25' },
    concurrency: { type: 'string', default: '16' },
    namespace: { type: 'string', default: 'library' },
    samples: { type: 'string', default: '50' },
    restarts: { type: 'string', default: '3' },
    data: { type: 'string' },
    profile: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
  },
});
const charts = Number(options.charts);
const versions = Number(options.versions);
const samples = Number(options.samples);
const restarts = Math.max(1, Number(options.restarts));
const namespace = options.namespace;
const targets = { coldStartMs: 1000, cachedMs: 50, searchP99Ms: 10 };

/** Typical searches over the seeded charts (words from seed-charts.ts); `npm run bench:search` has more. */
const searchQueries: [string, string][] = [
  ['chart name', `q=${chartName(7)}`],
  ['one word', 'q=gateway'],
  ['keyword', 'q=clickhouse'],
  ['two words', 'q=redis%20backup'],
  ['word + semver range', 'q=database&version=%3E%3D1.2.0%20%3C2'],
  ['browse (no words)', ''],
];

// ---------------------------------------------------------------------------------------------
// HTTP

const gzipHeaders = { 'accept-encoding': 'gzip' };
const indexYaml = `/chartrepo/${namespace}/index.yaml`;
const indexJson = `/chartrepo/${namespace}/index.json`;

async function expectOk(response: Promise<Timed>, what: string, status = 200): Promise<Timed> {
  const res = await response;
  if (res.status !== status) throw new Error(`${what}: expected ${status}, got ${res.status} ${res.body.toString().slice(0, 200)}`);
  return res;
}

/** The document a response carries, gunzipped when it came compressed. */
function decoded(res: Timed): Buffer {
  return res.headers['content-encoding'] === 'gzip' ? gunzipSync(res.body) : res.body;
}

// ---------------------------------------------------------------------------------------------
// Statistics

interface Single {
  ttfbMs: number;
  totalMs: number;
  bytes: number;
}

function single(res: Timed): Single {
  return { ttfbMs: res.ttfbMs, totalMs: res.totalMs, bytes: res.bytes };
}

interface Repeated {
  total: Stats;
  ttfb: Stats;
  bytes: number;
}

async function repeated(client: HttpClient, path: string, headers: Record<string, string>, n: number, status = 200): Promise<Repeated> {
  const totals: number[] = [];
  const ttfbs: number[] = [];
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    const res = await expectOk(client.get(path, headers, false), `GET ${path}`, status);
    totals.push(res.totalMs);
    ttfbs.push(res.ttfbMs);
    bytes = res.bytes;
  }
  return { total: stats(totals), ttfb: stats(ttfbs), bytes };
}

/** curl's own timing of the same request over one connection, as a cross-check of the Node client. */
function curlTimes(url: string, gzip: boolean, n: number): { total: Stats; bytes: number } | undefined {
  if (spawnSync('sh', ['-c', 'command -v curl']).status !== 0) return undefined;
  const args = ['-s', '-f', '-w', '%{size_download} %{time_total}\\n', ...(gzip ? ['-H', 'Accept-Encoding: gzip'] : [])];
  for (let i = 0; i < n; i++) args.push('-o', '/dev/null', url);
  const result = spawnSync('curl', args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`curl ${url} failed: ${result.stderr}`);
  const lines = result.stdout.trim().split('\n').map((line) => line.split(' ').map(Number));
  return { total: stats(lines.map((fields) => (fields[1] ?? 0) * 1000)), bytes: lines[0]?.[0] ?? 0 };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------------
// Validation

interface IndexVersion {
  name: string;
  version: string;
  urls: string[];
  created: string;
  digest?: string;
  appVersion?: string;
  description?: string;
  keywords?: string[];
}

interface IndexShape {
  apiVersion: string;
  entries: Record<string, IndexVersion[]>;
  generated: string;
}

interface Validation {
  format: 'yaml' | 'json';
  parseMs: number;
  charts: number;
  versions: number;
  digestsChecked: number;
  problems: string[];
}

/** Extra versions pushed to one chart during the run, newest last. */
interface Extras {
  chart: string;
  versions: string[];
}

function isIndex(doc: unknown): doc is IndexShape {
  if (typeof doc !== 'object' || doc === null) return false;
  const record = doc as Record<string, unknown>;
  return record.apiVersion === 'v1' && typeof record.entries === 'object' && record.entries !== null && typeof record.generated === 'string';
}

/**
 * Parses an index and checks it against what was pushed: every chart, every version, newest
 * first, and for a few versions the digest of the .tgz (re-derived: the seed is deterministic),
 * urls, created, appVersion. `exact`: nothing else is in the namespace (a fresh data dir).
 */
function validateIndex(text: Buffer, format: 'yaml' | 'json', extras: Extras, exact: boolean): Validation {
  const started = performance.now();
  const doc: unknown = format === 'yaml' ? parseYaml(text.toString('utf8'), { maxAliasCount: -1 }) : JSON.parse(text.toString('utf8'));
  const parseMs = performance.now() - started;
  const problems: string[] = [];
  const problem = (message: string): void => {
    if (problems.length < 20) problems.push(message);
  };
  if (!isIndex(doc)) return { format, parseMs, charts: 0, versions: 0, digestsChecked: 0, problems: ['not an index: apiVersion, entries or generated missing'] };
  const names = Object.keys(doc.entries);
  const total = names.reduce((sum, name) => sum + (doc.entries[name]?.length ?? 0), 0);
  if (exact && names.length !== charts) problem(`${names.length} charts in the index, expected ${charts}`);
  if (exact && total !== charts * versions + extras.versions.length) {
    problem(`${total} versions in the index, expected ${charts * versions + extras.versions.length}`);
  }
  let digestsChecked = 0;
  const spotChecks = new Set([0, 1, Math.floor(charts / 2), charts - 1, Math.floor(charts / 3), Math.floor((charts * 2) / 3)]);
  for (let i = 0; i < charts; i++) {
    const spec = chartSpec(i, versions);
    const list = doc.entries[spec.name];
    if (!list) {
      problem(`chart ${spec.name} is missing`);
      continue;
    }
    const expectedCount = versions + (spec.name === extras.chart ? extras.versions.length : 0);
    if (exact && list.length !== expectedCount) problem(`${spec.name}: ${list.length} versions, expected ${expectedCount}`);
    const present = new Map(list.map((entry) => [entry.version, entry]));
    for (const version of spec.versions) if (!present.has(version.version)) problem(`${spec.name} ${version.version} is missing`);
    for (let k = 1; k < list.length; k++) {
      const [newer, older] = [list[k - 1] as IndexVersion, list[k] as IndexVersion];
      if (semver.lt(newer.version, older.version)) problem(`${spec.name}: ${newer.version} listed before ${older.version}`);
    }
    if (spec.name === extras.chart && extras.versions.length > 0 && list[0]?.version !== extras.versions[extras.versions.length - 1]) {
      problem(`${spec.name}: newest is ${list[0]?.version}, expected the version just pushed, ${extras.versions[extras.versions.length - 1]}`);
    }
    if (!spotChecks.has(i)) continue;
    for (const version of [spec.versions[0], spec.versions[Math.floor(versions / 2)], spec.versions[versions - 1]]) {
      if (!version) continue;
      const entry = present.get(version.version);
      if (!entry) continue;
      const artifact = chartArtifact(spec, version);
      const where = `${spec.name} ${version.version}`;
      if (entry.name !== spec.name) problem(`${where}: name ${entry.name}`);
      if (entry.digest !== artifact.tgzDigest.slice('sha256:'.length)) problem(`${where}: digest ${entry.digest}, pushed ${artifact.tgzDigest}`);
      if (entry.urls[0] !== `charts/${spec.name}-${version.version}.tgz`) problem(`${where}: urls ${JSON.stringify(entry.urls)}`);
      if (new Date(entry.created).getTime() !== Date.parse(version.created)) problem(`${where}: created ${entry.created}, pushed ${version.created}`);
      if (entry.appVersion !== version.appVersion) problem(`${where}: appVersion ${entry.appVersion}, pushed ${version.appVersion}`);
      if (entry.description !== spec.description) problem(`${where}: description differs`);
      if (JSON.stringify(entry.keywords) !== JSON.stringify(spec.keywords)) problem(`${where}: keywords ${JSON.stringify(entry.keywords)}`);
      digestsChecked += 1;
    }
  }
  return { format, parseMs, charts: names.length, versions: total, digestsChecked, problems };
}

/** A chart download through the classic repository is the same bytes as pushed. */
async function checkDownload(client: HttpClient): Promise<string | undefined> {
  const spec = chartSpec(Math.floor(charts / 2), versions);
  const version = spec.versions[versions - 1] as ChartVersionSpec;
  const artifact = chartArtifact(spec, version);
  const res = await client.get(`/chartrepo/${namespace}/charts/${spec.name}-${version.version}.tgz`);
  if (res.status !== 200) return `download ${spec.name}-${version.version}.tgz: ${res.status}`;
  const digest = `sha256:${createHash('sha256').update(res.body).digest('hex')}`;
  return digest === artifact.tgzDigest ? undefined : `download ${spec.name}-${version.version}.tgz: ${digest}, pushed ${artifact.tgzDigest}`;
}

// ---------------------------------------------------------------------------------------------
// The run

interface RestartResult {
  coldStartMs: number;
  rssFreshMiB: number;
  first: { what: string } & Single;
  rssAfterIndexMiB: number;
}

interface Results {
  date: string;
  node: string;
  charts: number;
  versions: number;
  namespace: string;
  seeded: boolean;
  /** Spawn → first answered request of the first server: on empty data when `seeded`, else on the reused data. */
  firstStartMs: number;
  seed?: SeedResult & { serverCpuSeconds: number; serverCpuMsPerPush: number; serverPeakRssMiB: number };
  indexBytes: { yaml: number; yamlGzip: number; json: number; jsonGzip: number };
  firstAfterSeed: { gzip: Single };
  cached: { yamlPlain: Repeated; yamlGzip: Repeated; notModified: Repeated; jsonPlain: Repeated; jsonGzip: Repeated };
  search: Record<string, Repeated>;
  curl?: { yamlPlain?: { total: Stats; bytes: number }; yamlGzip?: { total: Stats; bytes: number } };
  firstJsonAfterYaml: Single;
  afterPush: { pushMs: number[]; yamlPlain: Single; yamlGzip: Single; json: Single };
  rssAtRestMiB: number;
  peakRssMiB: number;
  restarts: RestartResult[];
  validation: Validation[];
  downloadProblem?: string;
  profiles?: string;
}

async function pushExtra(url: string, extras: Extras, stamp: number): Promise<number> {
  const spec = chartSpec(0, versions);
  const last = spec.versions[versions - 1] as ChartVersionSpec;
  const version: ChartVersionSpec = {
    version: `1000.${stamp}.${extras.versions.length}`,
    appVersion: last.appVersion,
    created: new Date().toISOString(),
  };
  const client = createClient(url, 1);
  const started = performance.now();
  await pushChartArtifact(client, namespace, chartArtifact(spec, version));
  const elapsed = performance.now() - started;
  client.close();
  extras.versions.push(version.version);
  return elapsed;
}


/**
 * startChartroom, or with --profile the same command under --cpu-prof (Node refuses that flag in
 * NODE_OPTIONS); the profile is written when the server exits.
 */
async function start(dir: string, dataDir: string, profiles: string | undefined): Promise<RunningServer> {
  return startChartroom(dir, dataDir, { nodeArgs: profiles ? ['--cpu-prof', `--cpu-prof-dir=${profiles}`] : [] });
}

async function main(): Promise<void> {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const log = (line: string): void => console.error(line);
  const resultsDir = new URL('./results/', import.meta.url).pathname;
  mkdirSync(resultsDir, { recursive: true });
  const dir = mkdtempSync(join(tmpdir(), 'chartroom-charts-'));
  const dataDir = options.data ?? join(dir, 'chartroom');
  const reuse = existsSync(join(dataDir, 'chartroom.db'));
  let profiles: string | undefined;
  if (options.profile) {
    profiles = join(resultsDir, `profiles-${stamp}`);
    mkdirSync(profiles, { recursive: true });
    log(`profiling: one .cpuprofile per server run in ${profiles} (times are inflated by the profiler)`);
  }
  log(`data: ${dataDir}${reuse ? ' (already seeded: seeding skipped)' : ''}; server log: ${join(dir, 'chartroom.log')}`);

  // startChartroom polls with fetch(); its first call loads undici, which is not the server's start time.
  await fetch('http://127.0.0.1:1/').catch(() => undefined);
  const extras: Extras = { chart: chartName(0), versions: [] };
  const validation: Validation[] = [];
  let stopServer = async (): Promise<void> => undefined;
  try {
    let server = await start(dir, dataDir, profiles);
    stopServer = server.stop;
    const firstStartMs = server.startMs;
    let seed: Results['seed'];
    if (!reuse) {
      log(`seeding ${charts.toLocaleString('en-US')} charts × ${versions} versions into ${namespace}/ …`);
      const cpuBefore = cpuSeconds(server.pid);
      const result = await seedCharts(server.url, { namespace, charts, versions, concurrency: Number(options.concurrency), log });
      const serverCpuSeconds = cpuSeconds(server.pid) - cpuBefore;
      seed = { ...result, serverCpuSeconds, serverCpuMsPerPush: (serverCpuSeconds * 1000) / result.pushes, serverPeakRssMiB: memoryMiB(server.pid, 'VmHWM') };
      log(`seeded ${result.pushes.toLocaleString('en-US')} versions in ${result.seconds.toFixed(1)} s: ${result.pushesPerSecond.toFixed(0)} pushes/s`);
    }

    let client = httpClient(server.url);
    // The first request for the namespace after the last push: everything rendered from SQLite, then gzipped.
    const first = await expectOk(client.get(indexYaml, gzipHeaders), 'first index.yaml');
    log(`first index.yaml (gzip): ${first.totalMs.toFixed(0)} ms`);
    const yamlText = decoded(first);
    // Validation (slow: the yaml package takes half a minute on 50 MB) waits until the timing is done.
    const toValidate: { text: Buffer; format: 'yaml' | 'json'; extras: Extras }[] = [{ text: yamlText, format: 'yaml', extras: { ...extras, versions: [] } }];

    log('cached responses …');
    const yamlPlain = await repeated(client, indexYaml, {}, samples);
    const yamlGzip = await repeated(client, indexYaml, gzipHeaders, samples);
    const etag = String(first.headers.etag);
    const notModified = await repeated(client, indexYaml, { ...gzipHeaders, 'if-none-match': etag }, samples, 304);
    const firstJson = await expectOk(client.get(indexJson, gzipHeaders), 'first index.json');
    const jsonText = decoded(firstJson);
    const jsonPlain = await repeated(client, indexJson, {}, Math.ceil(samples / 2));
    const jsonGzip = await repeated(client, indexJson, gzipHeaders, Math.ceil(samples / 2));
    const curl = { yamlPlain: curlTimes(`${server.url}${indexYaml}`, false, 10), yamlGzip: curlTimes(`${server.url}${indexYaml}`, true, 10) };
    const sizeProblem = yamlText.length === yamlPlain.bytes ? undefined : `gzip body unpacks to ${yamlText.length} bytes, the plain one has ${yamlPlain.bytes}`;
    const indexBytes = { yaml: yamlPlain.bytes, yamlGzip: yamlGzip.bytes, json: jsonText.length, jsonGzip: jsonGzip.bytes };
    const downloadProblem = await checkDownload(client);

    log('search …');
    const search: Record<string, Repeated> = {};
    for (const [name, query] of searchQueries) search[name] = await repeated(client, `/api/v1/search?${query}`, {}, samples * 2);

    log('one more push, then the first response: plain, gzip, index.json …');
    const pushMs: number[] = [];
    pushMs.push(await pushExtra(server.url, extras, Math.floor(Date.now() / 1000)));
    const afterPushPlain = await expectOk(client.get(indexYaml, {}, false), 'index.yaml after a push');
    pushMs.push(await pushExtra(server.url, extras, Math.floor(Date.now() / 1000)));
    const afterPushGzip = await expectOk(client.get(indexYaml, gzipHeaders), 'index.yaml (gzip) after a push');
    pushMs.push(await pushExtra(server.url, extras, Math.floor(Date.now() / 1000)));
    const afterPushJson = await expectOk(client.get(indexJson, gzipHeaders), 'index.json after a push');
    toValidate.push({ text: decoded(afterPushGzip), format: 'yaml', extras: { ...extras, versions: extras.versions.slice(0, 2) } });
    toValidate.push({ text: decoded(afterPushJson), format: 'json', extras: { ...extras, versions: [...extras.versions] } });

    await sleep(3000);
    const rssAtRestMiB = memoryMiB(server.pid, 'VmRSS');
    const peakRssMiB = memoryMiB(server.pid, 'VmHWM');
    client.close();

    // Restarts on the same data: spawn → first answered /v2/, then the first index of each kind.
    const restartResults: RestartResult[] = [];
    const kinds = [
      { what: 'index.yaml', path: indexYaml, headers: {} },
      { what: 'index.yaml gzip', path: indexYaml, headers: gzipHeaders },
      { what: 'index.json gzip', path: indexJson, headers: gzipHeaders },
    ];
    for (let r = 0; r < restarts; r++) {
      await server.stop();
      server = await start(dir, dataDir, profiles);
      stopServer = server.stop;
      await sleep(500);
      const rssFreshMiB = memoryMiB(server.pid, 'VmRSS');
      client = httpClient(server.url);
      const kind = kinds[r % kinds.length] as (typeof kinds)[number];
      const res = await expectOk(client.get(kind.path, kind.headers, false), `${kind.what} after restart`);
      await sleep(2000);
      restartResults.push({ coldStartMs: server.startMs, rssFreshMiB, first: { what: kind.what, ...single(res) }, rssAfterIndexMiB: memoryMiB(server.pid, 'VmRSS') });
      log(`restart ${r + 1}: ${server.startMs.toFixed(0)} ms to the first answer; first ${kind.what} ${res.totalMs.toFixed(0)} ms`);
      client.close();
    }

    await server.stop();
    log('validating the indexes …');
    for (const item of toValidate) validation.push(validateIndex(item.text, item.format, item.extras, !reuse));
    if (sizeProblem) validation[0]?.problems.push(sizeProblem);

    const results: Results = {
      date: new Date().toISOString(),
      node: process.version,
      charts,
      versions,
      namespace,
      seeded: !reuse,
      firstStartMs,
      ...(seed ? { seed } : {}),
      indexBytes,
      firstAfterSeed: { gzip: single(first) },
      cached: { yamlPlain, yamlGzip, notModified, jsonPlain, jsonGzip },
      search,
      curl,
      firstJsonAfterYaml: single(firstJson),
      afterPush: { pushMs, yamlPlain: single(afterPushPlain), yamlGzip: single(afterPushGzip), json: single(afterPushJson) },
      rssAtRestMiB,
      peakRssMiB,
      restarts: restartResults,
      validation,
      ...(downloadProblem ? { downloadProblem } : {}),
      ...(profiles ? { profiles } : {}),
    };
    print(results);
    const file = join(resultsDir, `charts-${stamp}.json`);
    writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
    console.log(`\nresults: ${file}${profiles ? `\nprofiles: ${profiles}` : ''}`);
    const failed = validation.some((v) => v.problems.length > 0) || downloadProblem !== undefined;
    if (failed) process.exitCode = 1;
  } finally {
    await stopServer();
    // With --data the data lives elsewhere: the temp dir only holds the server log.
    if (!options.keep) rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Report

const ms = (n: number): string => `${n < 10 ? n.toFixed(2) : n < 100 ? n.toFixed(1) : n.toFixed(0)} ms`;
const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
const repeatedCell = (r: Repeated): string => `median ${ms(r.total.medianMs)}, p99 ${ms(r.total.p99Ms)} (n=${r.total.n}, ttfb ${ms(r.ttfb.medianMs)})`;

function print(r: Results): void {
  const rows: [string, string, string][] = [['measure', 'value', 'notes']];
  const total = r.charts * r.versions;
  if (r.seed) {
    rows.push([
      `seed ${total.toLocaleString('en-US')} pushes`,
      `${r.seed.seconds.toFixed(1)} s, ${r.seed.pushesPerSecond.toFixed(0)} pushes/s`,
      `concurrency ${options.concurrency}; server CPU ${r.seed.serverCpuMsPerPush.toFixed(2)} ms/push, peak RSS ${r.seed.serverPeakRssMiB.toFixed(0)} MiB; client CPU ${r.seed.clientCpuSeconds.toFixed(1)} s; mean .tgz ${r.seed.meanTgzBytes.toFixed(0)} B`,
    ]);
  }
  rows.push(['index size', `${mib(r.indexBytes.yaml)} yaml, ${mib(r.indexBytes.yamlGzip)} gzip`, `index.json ${mib(r.indexBytes.json)}, ${mib(r.indexBytes.jsonGzip)} gzip`]);
  rows.push([`first index.yaml after ${r.seeded ? 'seeding' : 'start'}, gzip`, ms(r.firstAfterSeed.gzip.totalMs), `ttfb ${ms(r.firstAfterSeed.gzip.ttfbMs)}; full render from SQLite + gzip`]);
  const plainRestart = r.restarts.find((x) => x.first.what === 'index.yaml');
  if (plainRestart) rows.push(['first index.yaml after restart, plain', ms(plainRestart.first.totalMs), 'full render from SQLite, no gzip']);
  const gzipRestart = r.restarts.find((x) => x.first.what === 'index.yaml gzip');
  if (gzipRestart) rows.push(['first index.yaml after restart, gzip', ms(gzipRestart.first.totalMs), 'full render from SQLite + gzip']);
  const jsonRestart = r.restarts.find((x) => x.first.what === 'index.json gzip');
  if (jsonRestart) rows.push(['first index.json after restart, gzip', ms(jsonRestart.first.totalMs), 'full render from SQLite + gzip']);
  const cachedWorst = Math.max(r.cached.yamlPlain.total.medianMs, r.cached.yamlGzip.total.medianMs);
  rows.push(['cached index.yaml, plain', repeatedCell(r.cached.yamlPlain), `target ≤ ${targets.cachedMs} ms: ${cachedWorst <= targets.cachedMs ? 'met' : 'MISSED'} (worse of plain/gzip medians)`]);
  rows.push(['cached index.yaml, gzip', repeatedCell(r.cached.yamlGzip), '']);
  if (r.curl?.yamlPlain) rows.push(['  curl: cached index.yaml, plain', `median ${ms(r.curl.yamlPlain.total.medianMs)}`, `n=${r.curl.yamlPlain.total.n}, ${mib(r.curl.yamlPlain.bytes)}`]);
  if (r.curl?.yamlGzip) rows.push(['  curl: cached index.yaml, gzip', `median ${ms(r.curl.yamlGzip.total.medianMs)}`, `n=${r.curl.yamlGzip.total.n}, ${mib(r.curl.yamlGzip.bytes)}`]);
  rows.push(['If-None-Match → 304', repeatedCell(r.cached.notModified), '']);
  rows.push(['first index.json (entries cached)', ms(r.firstJsonAfterYaml.totalMs), 'assembled from cached entries + gzip']);
  rows.push(['cached index.json, plain', repeatedCell(r.cached.jsonPlain), '']);
  rows.push(['cached index.json, gzip', repeatedCell(r.cached.jsonGzip), '']);
  const searchWorst = Math.max(...Object.values(r.search).map((x) => x.total.p99Ms));
  for (const [name, result] of Object.entries(r.search)) rows.push([`search: ${name}`, repeatedCell(result), '']);
  rows.push(['search p99, worst of the above', ms(searchWorst), `target ≤ ${targets.searchP99Ms} ms: ${searchWorst <= targets.searchP99Ms ? 'met' : 'MISSED'}`]);
  rows.push(['push one version (3 requests)', `median ${ms(stats(r.afterPush.pushMs).medianMs)}`, '']);
  rows.push(['first index.yaml after a push, plain', ms(r.afterPush.yamlPlain.totalMs), `ttfb ${ms(r.afterPush.yamlPlain.ttfbMs)}; one chart re-rendered, document reassembled`]);
  rows.push(['first index.yaml after a push, gzip', ms(r.afterPush.yamlGzip.totalMs), `ttfb ${ms(r.afterPush.yamlGzip.ttfbMs)}; + gzip`]);
  rows.push(['first index.json after a push, gzip', ms(r.afterPush.json.totalMs), `ttfb ${ms(r.afterPush.json.ttfbMs)}`]);
  rows.push([r.seeded ? 'start to first answer, empty data' : 'start to first answer, seeded data', ms(r.firstStartMs), '']);
  const cold = stats(r.restarts.map((x) => x.coldStartMs));
  rows.push([
    `cold start, ${(total + 3).toLocaleString('en-US')} versions`,
    `median ${ms(cold.medianMs)}, max ${ms(cold.maxMs)}`,
    `spawn → first answered /v2/ (n=${cold.n}); target ≤ ${targets.coldStartMs} ms: ${cold.maxMs <= targets.coldStartMs ? 'met' : 'MISSED'}`,
  ]);
  rows.push(['RSS at rest', `${r.rssAtRestMiB.toFixed(0)} MiB`, `after seeding and serving the index (peak ${r.peakRssMiB.toFixed(0)} MiB)`]);
  const restart0 = r.restarts[0];
  if (restart0) rows.push(['RSS after restart', `${restart0.rssFreshMiB.toFixed(0)} MiB`, `${restart0.rssAfterIndexMiB.toFixed(0)} MiB once the index is cached`]);
  for (const v of r.validation) {
    rows.push([
      `validation (${v.format})`,
      v.problems.length === 0 ? 'ok' : `${v.problems.length} PROBLEMS`,
      `${v.charts.toLocaleString('en-US')} charts, ${v.versions.toLocaleString('en-US')} versions, ${v.digestsChecked} digests checked; parse ${ms(v.parseMs)}`,
    ]);
  }
  rows.push(['chart download digest', r.downloadProblem ?? 'ok', '']);
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((row) => (row[i] ?? '').length)));
  for (const row of rows) console.log(row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join(' | ').trimEnd());
  for (const v of r.validation) for (const p of v.problems) console.log(`  ${v.format}: ${p}`);
}

await main();
