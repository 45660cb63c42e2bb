// Profiles the server's CPU on the chart push path: starts Chartroom under `node --cpu-prof`,
// pushes charts the way the benchmarks do (16 in flight), stops it, and prints the window of the
// measured pushes for bench/profile-summary.ts along with the server's CPU per push from /proc.
//
//   npm run build && node --import=@tapjs/typescript/import bench/profile-push.ts \
//     [--kind fresh|latest] [--pushes 600] [--search true|false] [--data SEEDED_DIR --charts 10000 --versions 10 --namespaces 20]
//
// --kind fresh: new charts at 1.0.0 on an empty registry (`npm run bench`'s "push 500");
// --kind latest: a new latest version of seeded charts (`npm run bench:search`'s push cost); needs
// --data, a data folder seeded by `npm run bench:search -- --data DIR` (it is copied, not changed).
import { cpSync, mkdirSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createClient } from './oci-client.js';
import { cpuSeconds } from './proc.js';
import { chartArtifact, chartSpec, pushChartArtifact, type ChartArtifact } from './seed-charts.js';
import { startChartroom } from './servers.js';

const { values: options } = parseArgs({
  options: {
    kind: { type: 'string', default: 'fresh' },
    pushes: { type: 'string', default: '600' },
    warmup: { type: 'string', default: '200' },
    search: { type: 'string', default: 'true' },
    data: { type: 'string' },
    charts: { type: 'string', default: '10000' },
    versions: { type: 'string', default: '10' },
    namespaces: { type: 'string', default: '20' },
    profile: { type: 'string', default: 'true' },
  },
});
const pushes = Number(options.pushes);
const warmup = Number(options.warmup);
const charts = Number(options.charts);
const namespaces = Number(options.namespaces);

interface Push {
  namespace: string;
  artifact: ChartArtifact;
}

/** The `count` pushes from `first` on; `batch` keeps the warm-up's charts apart from the measured ones. */
function pushList(first: number, count: number, batch: number): Push[] {
  return Array.from({ length: count }, (_, i) => {
    if (options.kind === 'latest') {
      const spec = chartSpec((first + i) % charts, Number(options.versions));
      const version = { version: `${90 + batch}.0.${first + i}`, appVersion: `9.9.${i}`, created: '2026-11-01T00:00:00Z' };
      return { namespace: `team${spec.index % namespaces}`, artifact: chartArtifact(spec, version) };
    }
    const spec = chartSpec(10_000 * (batch + 1) + first + i, 1);
    return { namespace: `bench/push${batch}`, artifact: chartArtifact(spec, { version: '1.0.0', appVersion: '1.0.0', created: '2026-01-01T00:00:00Z' }) };
  });
}

async function pushAll(url: string, list: Push[]): Promise<void> {
  const client = createClient(url, 16);
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < list.length) {
        const push = list[next++] as Push;
        await pushChartArtifact(client, push.namespace, push.artifact);
      }
    }),
  );
  client.close();
}

const monotonicMicros = (): bigint => process.hrtime.bigint() / 1000n;

async function main(): Promise<void> {
  if (options.kind === 'latest' && !options.data) throw new Error('--kind latest needs --data (a folder seeded by bench:search)');
  const work = mkdtempSync(join(tmpdir(), 'chartroom-profile-'));
  const dataDir = join(work, 'data');
  if (options.data) cpSync(options.data, dataDir, { recursive: true });
  const profileDir = join(work, 'profile');
  mkdirSync(profileDir);
  const server = await startChartroom(work, dataDir, {
    env: { CHARTROOM_CHARTS_SEARCH: options.search as string },
    nodeArgs: options.profile === 'true' ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [],
  });
  const measured = pushList(0, pushes, 1);
  await pushAll(server.url, pushList(pushes, warmup, 0));
  const since = monotonicMicros();
  const cpuBefore = cpuSeconds(server.pid);
  const started = performance.now();
  await pushAll(server.url, measured);
  const seconds = (performance.now() - started) / 1000;
  const cpuMs = ((cpuSeconds(server.pid) - cpuBefore) * 1000) / pushes;
  const until = monotonicMicros();
  await server.stop();
  console.log(`${pushes} pushes (${options.kind}, search ${options.search}): ${(pushes / seconds).toFixed(1)} charts/s, server CPU ${cpuMs.toFixed(2)} ms per push`);
  if (options.profile === 'true') {
    const profile = join(profileDir, readdirSync(profileDir)[0] as string);
    console.log(`node --import=@tapjs/typescript/import bench/profile-summary.ts ${profile} --ops ${pushes} --since ${since} --until ${until}`);
  }
}

await main();
