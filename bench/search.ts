// Chart search at scale: `--charts` × `--versions` chart versions (realistic Chart.yaml, README
// and values from seed-charts.ts) spread over `--namespaces` namespaces, then
//  1. query latency over HTTP for a set of typical queries (sequential, one keep-alive connection):
//     median and p99 per query, against the 10 ms p99 target;
//  2. what keeping the index costs a push: helm-style chart pushes over HTTP to a server keeping
//     the index and to one with `charts.search: false`, alternating rounds: charts/s and the
//     server's CPU per push (from /proc), medians of the rounds. On a shared machine the rates
//     swing by ±20%; CPU per push is the steadier figure;
//  3. a full `rebuild` of the index.
// Seeding writes the chart rows through the metadata store directly (one transaction per version,
// as a push commits them) without blob bytes: search reads only those rows, and 100,000 pushes
// over HTTP would take most of an hour here.
//
//   npm run bench:search [-- --charts 10000 --versions 10 --namespaces 20 --samples 300 --pushes 400 --rounds 7 --data DIR --only pushes]
//
// --data DIR keeps the seeded data, and DIR-without-search a copy seeded with search off (the
// baseline for push cost); seeding is skipped where a database already exists. --only pushes
// measures only the push cost (no query latency, no rebuild).
// Writes bench/results/search-<time>.json.
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { ChartMetadata } from '../src/charts/chart-yaml.js';
import type { NewManifest } from '../src/db/metadata.js';
import { createSqliteMetadata } from '../src/db/sqlite-metadata.js';
import { httpClient, stats, type Stats } from './http.js';
import { createClient } from './oci-client.js';
import { cpuSeconds } from './proc.js';
import { chartArtifact, chartMetadata, chartSpec, pushChartArtifact, type ChartSpec, type ChartVersionSpec } from './seed-charts.js';
import { startChartroom } from './servers.js';

const { values: options } = parseArgs({
  options: {
    charts: { type: 'string', default: '10000' },
    versions: { type: 'string', default: '10' },
    namespaces: { type: 'string', default: '20' },
    samples: { type: 'string', default: '300' },
    pushes: { type: 'string', default: '400' },
    rounds: { type: 'string', default: '7' },
    data: { type: 'string' },
    only: { type: 'string' },
  },
});
const charts = Number(options.charts);
const versions = Number(options.versions);
const namespaces = Number(options.namespaces);
const samples = Number(options.samples);
const pushesPerRound = Number(options.pushes);
const rounds = Number(options.rounds);
const targets = { p99Ms: 10, pushSlowdown: 0.1 };

const sha256 = (text: string): string => `sha256:${createHash('sha256').update(text).digest('hex')}`;

function repositoryOf(spec: ChartSpec): string {
  return `team${spec.index % namespaces}/${spec.name}`;
}

/** One chart version as a push records it: manifest row, tag and chart metadata. */
function chartWrite(spec: ChartSpec, version: ChartVersionSpec): NewManifest {
  const repository = repositoryOf(spec);
  const content = Buffer.from(JSON.stringify({ schemaVersion: 2, chart: spec.name, version: version.version }));
  const file = (suffix: string) => spec.files.find((f) => f.path.endsWith(suffix))?.content;
  const createdAt = Date.parse(version.created);
  return {
    repository,
    digest: sha256(content.toString()),
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    artifactType: undefined,
    subject: undefined,
    annotations: undefined,
    content,
    refs: [],
    tag: version.version.replaceAll('+', '_'),
    createdAt,
    chartVersionsImmutable: true,
    chart: {
      namespace: repository.slice(0, repository.lastIndexOf('/')),
      name: spec.name,
      version: version.version,
      versionTag: version.version.replaceAll('+', '_'),
      metadata: chartMetadata(spec, version) as unknown as ChartMetadata,
      chartDigest: sha256(`${repository}:${version.version}`),
      chartSize: 4096,
      provDigest: undefined,
      readme: file('README.md'),
      values: file('values.yaml'),
      valuesSchema: undefined,
      createdAt,
    },
  };
}

async function seed(file: string, searchIndex = true): Promise<{ seconds: number; writes: number }> {
  mkdirSync(dirname(file), { recursive: true });
  const metadata = createSqliteMetadata(file, { searchIndex });
  const started = performance.now();
  let writes = 0;
  let lastReport = started;
  for (let i = 0; i < charts; i++) {
    const spec = chartSpec(i, versions);
    for (const version of spec.versions) {
      const result = await metadata.putManifest(chartWrite(spec, version));
      if (!result.ok) throw new Error(`seeding ${spec.name} ${version.version}: ${JSON.stringify(result)}`);
      writes++;
    }
    if (performance.now() - lastReport > 10_000) {
      lastReport = performance.now();
      console.error(`  seeded ${writes.toLocaleString('en-US')} versions · ${((lastReport - started) / 1000).toFixed(0)} s`);
    }
  }
  // A registry merges its index segments when pushes pause; seeding never pauses, so merge once now.
  if (searchIndex) await metadata.rebuildSearchIndex();
  metadata.close();
  return { seconds: (performance.now() - started) / 1000, writes };
}

// ---------------------------------------------------------------------------------------------
// Queries: words the seeded charts use (see seed-charts.ts), from narrow to broad.

const queries: { name: string; query: string; typical: boolean }[] = [
  { name: 'exact chart name', query: 'q=cobalt-gateway', typical: true },
  { name: 'one name word (~170 charts)', query: 'q=gateway', typical: true },
  { name: 'one keyword (~5% of charts)', query: 'q=clickhouse', typical: true },
  { name: 'a word in every README (worst case)', query: 'q=prometheus', typical: false },
  { name: 'two words', query: 'q=redis%20backup', typical: true },
  { name: 'word prefix', query: 'q=postg', typical: true },
  { name: 'maintainer name', query: 'q=grace%20hopper', typical: true },
  { name: 'word + namespace', query: 'q=kafka&repo=team3/', typical: true },
  { name: 'word + keyword filter', query: 'q=proxy&keyword=networking', typical: true },
  { name: 'word + semver range', query: 'q=database&version=%3E%3D1.2.0%20%3C2', typical: true },
  { name: 'word + all versions', query: 'q=vault&versions=true', typical: true },
  { name: 'typo (fuzzy fallback)', query: 'q=gatewya', typical: true },
  { name: 'browse first page (no words)', query: '', typical: true },
  { name: 'helm search hub nginx (Monocular, 100 rows)', query: 'hub:nginx', typical: true },
  { name: 'word in every chart (worst case)', query: 'q=kubernetes', typical: false },
  { name: 'browse page 200 (no words)', query: 'page=200', typical: false },
];

async function measureQueries(url: string): Promise<{ name: string; query: string; typical: boolean; total: number; stats: Stats }[]> {
  const client = httpClient(url);
  const results = [];
  try {
    for (const q of queries) {
      const path = q.query.startsWith('hub:') ? `/api/chartsvc/v1/charts/search?q=${q.query.slice(4)}` : `/api/v1/search?${q.query}`;
      const first = await client.get(path);
      if (first.status !== 200) throw new Error(`${path}: ${first.status} ${first.body.toString().slice(0, 200)}`);
      const body = JSON.parse(first.body.toString()) as { total?: number; data?: unknown[] };
      const total = body.total ?? body.data?.length ?? 0;
      for (let i = 0; i < 20; i++) await client.get(path, {}, false);
      const times: number[] = [];
      for (let i = 0; i < samples; i++) times.push((await client.get(path, {}, false)).totalMs);
      const s = stats(times);
      results.push({ ...q, total, stats: s });
      console.error(`  ${q.name.padEnd(44)} ${String(total).padStart(6)} hits · median ${s.medianMs.toFixed(2)} ms · p99 ${s.p99Ms.toFixed(2)} ms`);
    }
  } finally {
    client.close();
  }
  return results;
}

// ---------------------------------------------------------------------------------------------
// Push cost: helm-style pushes (config, .tgz, manifest) of new latest versions of seeded charts,
// to a server keeping the index and to one with `charts.search` off, each on its own copy of the
// seeded data, alternating rounds.

async function pushRound(url: string, first: number, count: number, round: number): Promise<number> {
  const client = createClient(url, 16);
  const artifacts = Array.from({ length: count }, (_, i) => {
    const spec = chartSpec((first + i) % charts, versions);
    return { spec, artifact: chartArtifact(spec, { version: `${90 + round}.0.${first + i}`, appVersion: `9.9.${i}`, created: '2026-11-01T00:00:00Z' }) };
  });
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < artifacts.length) {
        const { spec, artifact } = artifacts[next++] as (typeof artifacts)[number];
        await pushChartArtifact(client, `team${spec.index % namespaces}`, artifact);
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  client.close();
  return count / elapsed;
}

interface PushCost {
  /** Median charts/s over the rounds. */
  rate: number;
  /** Median server CPU per push over the rounds, ms. */
  cpuMs: number;
  rounds: { rate: number; cpuMs: number }[];
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

async function measurePushes(
  work: string,
  seeded: Record<'with' | 'without', string>,
): Promise<{ withIndex: PushCost; withoutIndex: PushCost; slowdown: number; cpuIncrease: number }> {
  const servers = [];
  for (const which of ['with', 'without'] as const) {
    const dataDir = join(work, `push-${which}`);
    cpSync(seeded[which], dataDir, { recursive: true });
    const dir = join(work, `server-${which}`);
    mkdirSync(dir, { recursive: true });
    servers.push({ which, server: await startChartroom(dir, dataDir, { env: which === 'with' ? {} : { CHARTROOM_CHARTS_SEARCH: 'false' } }) });
  }
  const samples: Record<'with' | 'without', { rate: number; cpuMs: number }[]> = { with: [], without: [] };
  try {
    // A first, unmeasured round each: the copied data's pages come into memory, the servers warm up.
    // Its versions (89.x) sort below the measured ones, so that every measured push is a chart's new latest version.
    for (const { server } of servers) await pushRound(server.url, rounds * pushesPerRound, 2 * pushesPerRound, -1);
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? servers : [...servers].reverse();
      for (const { which, server } of order) {
        const cpuBefore = cpuSeconds(server.pid);
        const rate = await pushRound(server.url, round * pushesPerRound, pushesPerRound, round);
        const cpuMs = ((cpuSeconds(server.pid) - cpuBefore) * 1000) / pushesPerRound;
        samples[which].push({ rate, cpuMs });
        console.error(`  push ${which} index, round ${round + 1}: ${rate.toFixed(1)} charts/s, server CPU ${cpuMs.toFixed(2)} ms per push`);
      }
    }
  } finally {
    for (const { server } of servers) await server.stop();
  }
  const cost = (which: 'with' | 'without'): PushCost => ({
    rate: median(samples[which].map((s) => s.rate)),
    cpuMs: median(samples[which].map((s) => s.cpuMs)),
    rounds: samples[which],
  });
  const withIndex = cost('with');
  const withoutIndex = cost('without');
  return { withIndex, withoutIndex, slowdown: 1 - withIndex.rate / withoutIndex.rate, cpuIncrease: withIndex.cpuMs / withoutIndex.cpuMs - 1 };
}

/** How the rounds compare pairwise (each round pushes the same charts to both servers, one after the other). */
function pairedCpuIncrease(pushes: { withIndex: PushCost; withoutIndex: PushCost }): number {
  return median(pushes.withIndex.rounds.map((round, i) => round.cpuMs / (pushes.withoutIndex.rounds[i] as { cpuMs: number }).cpuMs - 1));
}

function printPushes(pushes: Awaited<ReturnType<typeof measurePushes>>): void {
  const pushVerdict = pushes.slowdown <= targets.pushSlowdown ? 'met' : 'MISSED';
  console.log(
    `chart pushes (median of ${rounds} rounds): ${pushes.withIndex.rate.toFixed(1)} charts/s keeping the index, ${pushes.withoutIndex.rate.toFixed(1)} without ` +
      `(${(pushes.slowdown * 100).toFixed(1)}% slower; target ≤ ${targets.pushSlowdown * 100}%: ${pushVerdict}); ` +
      `server CPU per push ${pushes.withIndex.cpuMs.toFixed(2)} ms vs ${pushes.withoutIndex.cpuMs.toFixed(2)} ms ` +
      `(${pushes.cpuIncrease >= 0 ? '+' : ''}${(pushes.cpuIncrease * 100).toFixed(1)}%; round by round, median ${(pairedCpuIncrease(pushes) * 100).toFixed(1)}%)`,
  );
}

function writeResults(name: string, results: unknown): void {
  const resultsDir = fileURLToPath(new URL('./results/', import.meta.url));
  mkdirSync(resultsDir, { recursive: true });
  const out = join(resultsDir, `${name}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(out, JSON.stringify(results, null, 2));
  console.log(`results: ${out}`);
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'chartroom-bench-search-'));
  const dataDir = options.data ?? join(work, 'data');
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, 'chartroom.db');
  try {
    // The baseline for push cost is a registry that never had the index (search off from the start).
    const unindexedDir = `${dataDir}-without-search`;
    let seeding: { seconds: number; writes: number } | undefined;
    for (const [dir, searchIndex] of [[dataDir, true], [unindexedDir, false]] as const) {
      if (existsSync(join(dir, 'chartroom.db'))) continue;
      console.error(`seeding ${charts.toLocaleString('en-US')} charts × ${versions} versions in ${namespaces} namespaces (search ${searchIndex ? 'on' : 'off'}) …`);
      const seeded = await seed(join(dir, 'chartroom.db'), searchIndex);
      console.error(`seeded ${seeded.writes.toLocaleString('en-US')} versions in ${seeded.seconds.toFixed(0)} s`);
      if (searchIndex) seeding = seeded;
    }

    if (options.only === 'pushes') {
      console.error(`push cost (${rounds} rounds × ${pushesPerRound} chart pushes, 16 in flight, with and without the index):`);
      const pushes = await measurePushes(work, { with: dataDir, without: unindexedDir });
      printPushes(pushes);
      writeResults('search-pushes', { charts, versions, namespaces, pushes });
      return;
    }

    console.error('query latency (sequential, one keep-alive connection):');
    const server = await startChartroom(work, dataDir);
    let queryResults;
    try {
      queryResults = await measureQueries(server.url);
    } finally {
      await server.stop();
    }

    console.error(`push cost (${rounds} rounds × ${pushesPerRound} chart pushes, 16 in flight, with and without the index):`);
    const pushes = await measurePushes(work, { with: dataDir, without: unindexedDir });

    console.error('rebuild:');
    const metadata = createSqliteMetadata(file);
    const started = performance.now();
    const indexed = await metadata.rebuildSearchIndex();
    const rebuildMs = performance.now() - started;
    metadata.close();
    console.error(`  ${indexed.toLocaleString('en-US')} charts in ${rebuildMs.toFixed(0)} ms`);

    const typical = queryResults.filter((q) => q.typical);
    const worstTypicalP99 = Math.max(...typical.map((q) => q.stats.p99Ms));
    console.log(`\nquery                                        |   hits | median ms | p99 ms`);
    for (const q of queryResults) {
      console.log(`${q.name.padEnd(44)} | ${String(q.total).padStart(6)} | ${q.stats.medianMs.toFixed(2).padStart(9)} | ${q.stats.p99Ms.toFixed(2).padStart(6)}`);
    }
    console.log(`\ntypical queries: worst p99 ${worstTypicalP99.toFixed(2)} ms (target < ${targets.p99Ms} ms: ${worstTypicalP99 < targets.p99Ms ? 'met' : 'MISSED'})`);
    printPushes(pushes);
    console.log(`rebuild: ${indexed.toLocaleString('en-US')} charts in ${rebuildMs.toFixed(0)} ms`);

    writeResults('search', { charts, versions, namespaces, samples, seeding, queries: queryResults, pushes, rebuild: { charts: indexed, ms: rebuildMs } });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
