// `npm run bench`: Chartroom against CNCF distribution 2.8 (and nginx serving the same bytes
// as static files), on loopback with fresh data, scenarios alternated A, B, A, B … over
// several rounds, after an unmeasured warm-up where seeding left a path cold; medians, ratios,
// server CPU per operation and peak RSS. Writes bench/results/<time>.json. Options: --rounds N
// (default 3), --seconds N (wrk duration, default 5), --only <regular expression: scenarios
// whose names match>,
// --ha (also Chartroom over PostgreSQL and S3, started on loopback by scripts/start-postgres.sh
// and start-s3.sh: a column of its own).
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { abHead, curlDownloads, wrk } from './load.js';
import { createClient, makeArtifact, manifestType, pushArtifact, sha256, type Artifact } from './oci-client.js';
import { cpuSeconds, memoryMiB, resetPeakRss } from './proc.js';
import { chartArtifact, chartSpec, pushChartArtifact } from './seed-charts.js';
import { startHaStack } from './ha-stack.js';
import { ensureTools, startChartroom, startDistribution, startNginx, type RunningServer } from './servers.js';

const { values: options } = parseArgs({
  options: { rounds: { type: 'string', default: '3' }, seconds: { type: 'string', default: '5' }, only: { type: 'string' }, ha: { type: 'boolean', default: false } },
});
const rounds = Number(options.rounds);
const seconds = Number(options.seconds);
const mib = 1024 * 1024;

interface Sample {
  value: number;
  p99Ms?: number;
  cpuMsPerOp?: number;
  peakRssGrowthMiB?: number;
  errors?: number;
}

interface Scenario {
  name: string;
  unit: string;
  /** Minimum ratio Chartroom / distribution (for "lower is better" units the inverse is used). */
  target: number;
  nginx?: boolean;
  /** Run once on each server before the measured rounds, unmeasured: code paths the seeding did not take are warmed up (JIT). */
  warmup?(server: RunningServer): Promise<void>;
  run(server: RunningServer, round: number): Promise<Sample>;
}

/** The same bytes for every server. */
interface Fixtures {
  chart: Artifact;
  tagged: Artifact;
  big: Buffer;
}

function fixtures(): Fixtures {
  return { chart: makeArtifact('app', '1.0.0'), tagged: makeArtifact('tagged', '1.0.0'), big: randomBytes(64 * mib) };
}

async function seed(server: RunningServer, data: Fixtures): Promise<void> {
  const client = createClient(server.url);
  await pushArtifact(client, 'bench/chart', '1.0.0', data.chart);
  await pushArtifact(client, 'bench/tags', '1.0.0', data.tagged);
  for (let batch = 0; batch < 1000; batch += 50) {
    await Promise.all(
      Array.from({ length: 50 }, (_, i) => client.pushManifest('bench/tags', `1.0.${batch + i}`, data.tagged.manifest, manifestType)),
    );
  }
  await client.pushChunked('bench/big', data.big, 1);
  client.close();
}

/** Writes the same bytes as files for nginx: the limit for a GET on this machine. */
function staticCopy(dir: string, data: Fixtures): string {
  const root = join(dir, 'static');
  mkdirSync(root, { recursive: true });
  writeFileSync(join(root, 'manifest'), data.chart.manifest);
  writeFileSync(join(root, 'blob4k'), data.chart.layer);
  writeFileSync(join(root, 'blob64m'), data.big);
  writeFileSync(join(root, 'tags'), JSON.stringify({ name: 'bench/tags', tags: Array.from({ length: 1000 }, (_, i) => `1.0.${i}`).sort() }));
  return root;
}

/** Runs `work` and charges the server's CPU time to each of `operations`. */
async function measured<T extends Sample>(server: RunningServer, work: () => Promise<T>, operations: (sample: T) => number): Promise<T> {
  const cpuBefore = cpuSeconds(server.pid);
  const sample = await work();
  const ops = operations(sample);
  return { ...sample, cpuMsPerOp: ops > 0 ? ((cpuSeconds(server.pid) - cpuBefore) * 1000) / ops : undefined };
}

// distribution 2.8 answers 404 for an OCI manifest unless the client accepts the type.
const acceptManifest = [`Accept: ${manifestType}`];

function getLoad(path: (server: RunningServer) => string, connections: number, headers: string[] = []): Scenario['run'] {
  return (server) =>
    measured(
      server,
      async () => {
        const result = await wrk(`${server.url}${path(server)}`, connections, seconds, headers);
        return { value: result.requestsPerSecond, p99Ms: result.p99Ms, errors: result.errors, requests: result.requests };
      },
      (sample) => sample.requests,
    );
}

function scenarios(data: Fixtures): Scenario[] {
  const isNginx = (server: RunningServer): boolean => server.name === 'nginx';
  return [
    {
      name: 'manifest GET by tag (c=32)',
      unit: 'req/s',
      target: 5,
      nginx: true,
      run: getLoad((s) => (isNginx(s) ? '/manifest' : '/v2/bench/chart/manifests/1.0.0'), 32, acceptManifest),
    },
    {
      name: 'manifest HEAD by tag (c=32)',
      unit: 'req/s',
      target: 5,
      nginx: true,
      run: (server) =>
        measured(
          server,
          async () => {
            const url = `${server.url}${isNginx(server) ? '/manifest' : '/v2/bench/chart/manifests/1.0.0'}`;
            const result = await abHead(url, 32, 40_000, acceptManifest);
            return { value: result.requestsPerSecond, p99Ms: result.p99Ms, errors: result.errors };
          },
          () => 40_000,
        ),
    },
    {
      name: 'blob GET 4 KiB (c=32)',
      unit: 'req/s',
      target: 5,
      nginx: true,
      run: getLoad((s) => (isNginx(s) ? '/blob4k' : `/v2/bench/chart/blobs/${sha256(data.chart.layer)}`), 32),
    },
    {
      name: 'tags/list, 1,000 tags (c=32)',
      unit: 'req/s',
      target: 5,
      nginx: true,
      run: getLoad((s) => (isNginx(s) ? '/tags' : '/v2/bench/tags/tags/list'), 32),
    },
    {
      name: 'blob GET 64 MiB (c=4, curl)',
      unit: 'MB/s',
      target: 1,
      nginx: true,
      run: (server) =>
        measured(
          server,
          async () => {
            const url = `${server.url}${isNginx(server) ? '/blob64m' : `/v2/bench/big/blobs/${sha256(data.big)}`}`;
            const { seconds: elapsed, bytes } = await curlDownloads(url, 4, 6);
            return { value: bytes / 1e6 / elapsed, bytes };
          },
          (sample) => sample.bytes / mib,
        ),
    },
    {
      // Real charts (config, .tgz, manifest under the version tag): Chartroom parses and indexes each one.
      name: 'push 500 charts (16 in flight)',
      unit: 'charts/s',
      target: 2,
      warmup: async (server) => {
        await pushCharts(server, 'bench/warmup', 1000, 0);
      },
      run: (server, round) =>
        measured(
          server,
          async () => ({ value: await pushCharts(server, `bench/push${round}`, 500, round + 1) }),
          () => 500,
        ),
    },
    {
      name: 'chunked upload 512 MiB in 8 MiB PATCHes',
      unit: 'MB/s',
      target: 1,
      run: (server, round) =>
        measured(
          server,
          async () => {
            const chunk = randomBytes(8 * mib);
            const client = createClient(server.url, 1);
            const rssBefore = memoryMiB(server.pid, 'VmRSS');
            resetPeakRss(server.pid);
            const started = performance.now();
            await client.pushChunked(`bench/chunked${round}`, chunk, 64);
            const elapsed = (performance.now() - started) / 1000;
            client.close();
            return { value: (512 * mib) / 1e6 / elapsed, peakRssGrowthMiB: memoryMiB(server.pid, 'VmHWM') - rssBefore };
          },
          () => 512,
        ),
    },
  ];
}

async function inFlight<T>(limit: number, items: T[], work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) {
        const index = next++;
        await work(items[index] as T, index);
      }
    }),
  );
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

function summarize(samples: Sample[]): Sample {
  const pick = (key: keyof Sample): number | undefined => {
    const values = samples.map((s) => s[key]).filter((v): v is number => typeof v === 'number');
    return values.length ? median(values) : undefined;
  };
  const summary: Sample = { value: pick('value') as number };
  for (const key of ['p99Ms', 'cpuMsPerOp', 'peakRssGrowthMiB', 'errors'] as const) {
    const value = pick(key);
    if (value !== undefined) summary[key] = value;
  }
  return summary;
}

const fmt = (n: number | undefined, digits = 0): string => (n === undefined ? '–' : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }));

async function main(): Promise<void> {
  ensureTools();
  const dir = mkdtempSync(join(tmpdir(), 'chartroom-bench-'));
  chmodSync(dir, 0o755); // nginx workers run as another user
  const data = fixtures();
  const chartroom = await startChartroom(dir);
  const stack = options.ha ? await startHaStack() : undefined;
  const ha = stack ? { ...(await startChartroom(dir, join(dir, 'chartroom-ha'), { env: stack.env })), name: 'chartroom-ha' } : undefined;
  const distribution = await startDistribution(dir);
  const nginx = await startNginx(dir, staticCopy(dir, data));
  const servers = [chartroom, ...(ha ? [ha] : []), distribution, nginx];
  const results: Record<string, Record<string, Sample & { samples: Sample[] }>> = {};
  try {
    console.error('seeding both registries with the same bytes …');
    for (const server of servers) if (server !== nginx) await seed(server, data);
    const rssAtRest = memoryMiB(chartroom.pid, 'VmRSS');

    for (const scenario of scenarios(data)) {
      if (options.only && !new RegExp(options.only).test(scenario.name)) continue;
      const targets = servers.filter((server) => server.name !== 'nginx' || scenario.nginx);
      const samples = new Map<string, Sample[]>(targets.map((server) => [server.name, []]));
      for (const server of targets) await scenario.warmup?.(server);
      for (let round = 0; round < rounds; round++) {
        for (const server of targets) {
          // Dirty pages the previous sample left (distribution writes without fsync) would be
          // flushed by the next server's fsyncs (ext4 commits them together): each starts clean.
          spawnSync('sync');
          const sample = await scenario.run(server, round);
          if (sample.errors) throw new Error(`${scenario.name} on ${server.name}: ${sample.errors} failed requests`);
          samples.get(server.name)?.push(sample);
          console.error(`  ${scenario.name} · ${server.name} · round ${round + 1}: ${fmt(sample.value, 1)} ${scenario.unit}`);
        }
      }
      results[scenario.name] = Object.fromEntries(
        [...samples].map(([name, list]) => [name, { ...summarize(list), samples: list }]),
      );
    }

    const restart = await restartTime(dir, chartroom);
    print(results, scenarios(data), { rssAtRest, restart });
    const outDir = new URL('./results/', import.meta.url).pathname;
    mkdirSync(outDir, { recursive: true });
    const file = join(outDir, `${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), rounds, seconds, results, chartroomOnly: { rssAtRest, ...restart } }, null, 2));
    console.log(`\nresults: ${file}`);
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
    await stack?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Pushes `count` new charts (series `series`) into a repository namespace, 16 in flight; returns charts/s. */
async function pushCharts(server: RunningServer, namespace: string, count: number, series: number): Promise<number> {
  const charts = Array.from({ length: count }, (_, i) => {
    const spec = chartSpec(10_000 * series + i, 1);
    return chartArtifact(spec, { version: '1.0.0', appVersion: '1.0.0', created: '2026-01-01T00:00:00Z' });
  });
  const client = createClient(server.url, 16);
  const started = performance.now();
  await inFlight(16, charts, (chart) => pushChartArtifact(client, namespace, chart));
  const elapsed = (performance.now() - started) / 1000;
  client.close();
  return charts.length / elapsed;
}

/** Cold start on the seeded data: spawn to first answered request. */
async function restartTime(dir: string, chartroom: RunningServer): Promise<{ coldStartMs: number; firstStartMs: number }> {
  await chartroom.stop();
  // As before each sample: the gigabyte the upload scenarios left dirty is written back first.
  spawnSync('sync');
  const again = await startChartroom(dir);
  const coldStartMs = again.startMs;
  await again.stop();
  return { coldStartMs, firstStartMs: chartroom.startMs };
}

function print(
  results: Record<string, Record<string, Sample>>,
  list: Scenario[],
  extra: { rssAtRest: number; restart: { coldStartMs: number; firstStartMs: number } },
): void {
  const withHa = list.some((scenario) => results[scenario.name]?.['chartroom-ha'] !== undefined);
  const rows = [
    ['scenario', 'unit', 'chartroom', 'distribution', 'ratio', 'target', 'nginx', 'p99 ms (c / d)', 'CPU ms/op (c / d)', 'peak RSS +MiB (c / d)'],
  ];
  if (withHa) rows[0]?.push('pg+s3', 'ratio', 'p99 ms', 'CPU ms/op', 'peak RSS +MiB');
  for (const scenario of list) {
    const r = results[scenario.name];
    if (!r) continue;
    const c = r.chartroom as Sample;
    const d = r.distribution as Sample;
    const ratio = c.value / d.value;
    const row = [
      scenario.name,
      scenario.unit,
      fmt(c.value, 1),
      fmt(d.value, 1),
      `${ratio.toFixed(2)}×`,
      `≥ ${scenario.target}× ${ratio >= scenario.target ? 'met' : 'MISSED'}`,
      fmt(r.nginx?.value, 1),
      `${fmt(c.p99Ms, 1)} / ${fmt(d.p99Ms, 1)}`,
      `${fmt(c.cpuMsPerOp, 3)} / ${fmt(d.cpuMsPerOp, 3)}`,
      `${fmt(c.peakRssGrowthMiB, 1)} / ${fmt(d.peakRssGrowthMiB, 1)}`,
    ];
    const h = r['chartroom-ha'];
    if (withHa) row.push(fmt(h?.value, 1), h ? `${(h.value / d.value).toFixed(2)}×` : '–', fmt(h?.p99Ms, 1), fmt(h?.cpuMsPerOp, 3), fmt(h?.peakRssGrowthMiB, 1));
    rows.push(row);
  }
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length))) ?? [];
  for (const row of rows) console.log(row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join(' | '));
  console.log(`\nChartroom only: RSS at rest ${extra.rssAtRest.toFixed(1)} MiB; start to first answer ${extra.restart.firstStartMs.toFixed(0)} ms (empty), ${extra.restart.coldStartMs.toFixed(0)} ms (seeded)`);
}

await main();
