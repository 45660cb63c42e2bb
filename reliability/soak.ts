// `npm run soak -- --minutes M [--clients C] [--out file.json]`: many clients pulling and pushing
// against one Chartroom process for M minutes, on loopback. Prints, per minute, requests, errors,
// latency p50/p99 and the server's RSS and open file descriptors (from /proc/<pid>), and judges
// whether memory and descriptors stayed flat. Exits 1 on errors or growth.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { stats } from '../bench/http.js';
import { createClient, makeArtifact, manifestType, pushArtifact, sha256, type OciClient } from '../bench/oci-client.js';
import { memoryMiB } from '../bench/proc.js';
import { startChartroom } from '../bench/servers.js';
import { chartTgz } from '../test/helpers/charts.js';
import { createRng } from './lib/rng.js';

const { values } = parseArgs({
  options: { minutes: { type: 'string', default: '10' }, clients: { type: 'string', default: '24' }, seed: { type: 'string', default: '1' }, out: { type: 'string' } },
});
const minutes = Number(values.minutes);
const clientCount = Number(values.clients);

interface Minute {
  minute: number;
  requests: number;
  errors: number;
  p50Ms: number;
  p99Ms: number;
  rssMiB: number;
  fds: number;
}

const dir = mkdtempSync(join(tmpdir(), 'chartroom-soak-'));
const server = await startChartroom(dir, join(dir, 'data'), { env: { CHARTROOM_LOG_LEVEL: 'warn' } });
const fds = (): number => readdirSync(`/proc/${server.pid}/fd`).length;

// Something to pull: 20 artifacts, a 1 MiB blob, a chart for the classic index and search.
const seeder = createClient(server.url, 4);
const artifacts = Array.from({ length: 20 }, (_, i) => makeArtifact(`soak${i}`, '1.0.0', 8192));
for (const [i, artifact] of artifacts.entries()) await pushArtifact(seeder, 'soak/app', `v${i}`, artifact);
const big = makeArtifact('big', '1.0.0', 1024 * 1024);
await pushArtifact(seeder, 'soak/app', 'big', big);
if ((await seeder.send('POST', '/api/chartrepo/soak/charts', chartTgz({ name: 'web', version: '1.0.0' }))).status !== 201) throw new Error('seeding the chart failed');
seeder.close();

const operations: [number, string, (client: OciClient, n: number) => Promise<boolean>][] = [
  [40, 'manifest', async (c, n) => (await c.send('GET', `/v2/soak/app/manifests/v${n % 20}`, undefined, { accept: manifestType })).status === 200],
  [25, 'blob', async (c, n) => (await c.send('GET', `/v2/soak/app/blobs/${sha256((artifacts[n % 20] as (typeof artifacts)[number]).layer)}`)).status === 200],
  [4, 'big blob', async (c) => (await c.send('GET', `/v2/soak/app/blobs/${sha256(big.layer)}`)).status === 200],
  [5, 'tags', async (c) => (await c.send('GET', '/v2/soak/app/tags/list')).status === 200],
  [5, 'index.yaml', async (c) => (await c.send('GET', '/chartrepo/soak/index.yaml')).status === 200],
  [5, 'search', async (c) => (await c.send('GET', '/api/v1/search?q=web')).status === 200],
  [16, 'push', async (c, n) => {
    await pushArtifact(c, `soak/push${n % 8}`, `t${n}`, makeArtifact(`p${n}`, '1.0.0', 16 * 1024 + (n % 7) * 30_000));
    return true;
  }],
];
const totalWeight = operations.reduce((sum, [weight]) => sum + weight, 0);

const started = performance.now();
const deadline = started + minutes * 60_000;
const perMinute = new Map<number, { latencies: number[]; errors: number }>();
const errorSamples: string[] = [];
let counter = 0;

async function clientLoop(index: number): Promise<void> {
  const rng = createRng(Number(values.seed) * 1000 + index);
  const client = createClient(server.url, 1);
  try {
    while (performance.now() < deadline) {
      let roll = rng.int(0, totalWeight - 1);
      const op = operations.find(([weight]) => (roll -= weight) < 0) ?? operations[0];
      const [, name, run] = op as (typeof operations)[number];
      const n = counter++;
      const t0 = performance.now();
      let ok: boolean;
      try {
        ok = await run(client, n);
      } catch (err) {
        ok = false;
        if (errorSamples.length < 10) errorSamples.push(`${name}: ${(err as Error).message}`);
      }
      const minute = Math.floor((performance.now() - started) / 60_000);
      const bucket = perMinute.get(minute) ?? { latencies: [], errors: 0 };
      bucket.latencies.push(performance.now() - t0);
      if (!ok) bucket.errors += 1;
      perMinute.set(minute, bucket);
    }
  } finally {
    client.close();
  }
}

const samples: { minute: number; rssMiB: number; fds: number }[] = [];
const sampler = setInterval(() => {
  samples.push({ minute: Math.floor((performance.now() - started) / 60_000), rssMiB: memoryMiB(server.pid, 'VmRSS'), fds: fds() });
}, 5000);

console.log(`soak: ${clientCount} clients for ${minutes} min against pid ${server.pid}`);
console.log('minute  requests  errors  p50 ms  p99 ms  RSS MiB  fds');
const printed = new Set<number>();
const printer = setInterval(() => {
  const minute = Math.floor((performance.now() - started) / 60_000) - 1;
  const row = summary(minute);
  if (row && !printed.has(minute)) console.log(format(row));
  printed.add(minute);
}, 60_000);

function summary(minute: number): Minute | undefined {
  const bucket = perMinute.get(minute);
  const inMinute = samples.filter((s) => s.minute === minute);
  const last = inMinute[inMinute.length - 1];
  if (!bucket || !last) return undefined;
  const latency = stats(bucket.latencies);
  return { minute: minute + 1, requests: bucket.latencies.length, errors: bucket.errors, p50Ms: latency.medianMs, p99Ms: latency.p99Ms, rssMiB: last.rssMiB, fds: last.fds };
}

function format(m: Minute): string {
  return `${String(m.minute).padStart(6)}  ${String(m.requests).padStart(8)}  ${String(m.errors).padStart(6)}  ${m.p50Ms.toFixed(1).padStart(6)}  ${m.p99Ms.toFixed(1).padStart(6)}  ${m.rssMiB.toFixed(0).padStart(7)}  ${String(m.fds).padStart(3)}`;
}

await Promise.all(Array.from({ length: clientCount }, (_, i) => clientLoop(i)));
clearInterval(printer);
clearInterval(sampler);
samples.push({ minute: minutes - 1, rssMiB: memoryMiB(server.pid, 'VmRSS'), fds: fds() });
const rows = Array.from({ length: minutes }, (_, minute) => summary(minute)).filter((row): row is Minute => row !== undefined);
const lastRow = rows[rows.length - 1];
for (const row of rows) if (!printed.has(row.minute - 1)) console.log(format(row));
await server.stop();
rmSync(dir, { recursive: true, force: true });

// Flat: after the first minute (warm-up: caches, JIT, pools), RSS grows by less than 25 % and
// descriptors by fewer than 16 from the second minute to the last.
const errors = rows.reduce((sum, row) => sum + row.errors, 0);
const [second] = rows.slice(1);
const rssGrowth = second && lastRow ? (lastRow.rssMiB - second.rssMiB) / second.rssMiB : 0;
const fdGrowth = second && lastRow ? lastRow.fds - second.fds : 0;
const verdict = { requests: rows.reduce((sum, row) => sum + row.requests, 0), errors, rssGrowthPercent: Math.round(rssGrowth * 1000) / 10, fdGrowth, flat: rssGrowth < 0.25 && fdGrowth < 16 };
console.log(JSON.stringify(verdict));
for (const sample of errorSamples) console.log(`error: ${sample}`);
if (values.out) writeFileSync(values.out, JSON.stringify({ clients: clientCount, minutes, rows, samples, verdict, errorSamples }, null, 2));
process.exitCode = errors === 0 && verdict.flat ? 0 : 1;
