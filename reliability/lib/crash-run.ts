// Crash consistency: a Chartroom process under 16 concurrent pushers is killed with SIGKILL at a
// random moment, restarted on the same data, and checked: everything acknowledged is there byte
// for byte, uploads cut off by the crash can be finished, and the store breaks none of its rules.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sha256 } from '../../bench/oci-client.js';
import { startChartroom, type RunningServer } from '../../bench/servers.js';
import { createRng, type Rng } from './rng.js';
import {
  blobSpec,
  createPusher,
  imageManifest,
  newLedger,
  UnexpectedStatus,
  uploadModes,
  type BlobSpec,
  type InFlight,
  type Ledger,
  type Pusher,
} from './pusher.js';
import { checkStore, type HashCache } from './store-check.js';

export interface CrashOptions {
  rounds: number;
  seed: number;
  pushers: number;
  minBlobBytes: number;
  maxBlobBytes: number;
  /** The kill comes this long after the pushers start, drawn uniformly. */
  killAfterMs: [number, number];
  /** Keep the data directory (and the server log) here instead of a temporary one. */
  dir?: string;
  log?: (line: string) => void;
}

export interface CrashReport {
  rounds: number;
  acknowledgedBlobs: number;
  acknowledgedManifests: number;
  /** Requests cut off by the kills, finished after the restarts. */
  resumed: number;
  blobFilesChecked: number;
  bytesHashed: number;
  violations: string[];
  seconds: number;
}

export const crashDefaults: CrashOptions = {
  rounds: 20,
  seed: 1,
  pushers: 16,
  minBlobBytes: 1024,
  maxBlobBytes: 8 * 1024 * 1024,
  killAfterMs: [200, 4000],
};

interface Worker {
  pusher: Pusher;
  rng: Rng;
  current?: InFlight;
}

/** Blobs acknowledged before, some of them pushed again (to another repository: the dedup path). */
type Pool = BlobSpec[];

async function pushLoop(worker: Worker, repository: string, round: number, index: number, ledger: Ledger, pool: Pool, options: CrashOptions): Promise<void> {
  const { rng, pusher } = worker;
  for (let n = 0; ; n++) {
    const blobs: BlobSpec[] = [];
    const count = rng.int(2, 4); // a config and 1–3 layers
    for (let i = 0; i < count; i++) {
      const reuse = pool.length > 0 && rng.chance(0.15);
      const spec = reuse ? rng.pick(pool) : blobSpec(rng.seed(), i === 0 ? rng.int(64, 2048) : rng.size(options.minBlobBytes, options.maxBlobBytes));
      worker.current = { kind: 'blob', repository, spec, acked: 0 };
      await pusher.pushBlob(worker.current, rng.pick(uploadModes), rng);
      ledger.blobs.push({ repository, digest: spec.digest, size: spec.size });
      pool.push(spec);
      blobs.push(spec);
    }
    const [config, ...layers] = blobs as [BlobSpec, ...BlobSpec[]];
    const tag = `r${round}-p${index}-${n}`;
    const bytes = imageManifest(config, layers, { 'org.opencontainers.image.version': tag });
    worker.current = { kind: 'manifest', repository, tag, bytes, blobs };
    await pusher.pushManifest(repository, tag, bytes);
    ledger.manifests.push({ repository, tag, digest: sha256(bytes), bytes });
    worker.current = undefined;
  }
}


/** Finishes what a kill cut off; returns a violation, or undefined. */
async function finish(worker: Worker, ledger: Ledger): Promise<string | undefined> {
  const current = worker.current;
  if (!current) return undefined;
  if (current.kind === 'blob') {
    const problem = await worker.pusher.resumeBlob(current, worker.rng);
    if (!problem) ledger.blobs.push({ repository: current.repository, digest: current.spec.digest, size: current.spec.size });
    return problem;
  }
  await worker.pusher.pushManifest(current.repository, current.tag, current.bytes);
  ledger.manifests.push({ repository: current.repository, tag: current.tag, digest: sha256(current.bytes), bytes: current.bytes });
  return undefined;
}

export async function runCrash(options: CrashOptions): Promise<CrashReport> {
  const log = options.log ?? (() => {});
  const started = performance.now();
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'chartroom-crash-'));
  const dataDir = join(dir, 'data');
  const rng = createRng(options.seed);
  const ledger = newLedger();
  const pool: Pool = [];
  const cache: HashCache = new Map();
  const violations: string[] = [];
  let verifiedBlobs = 0;
  let verifiedManifests = 0;
  let resumed = 0;
  let blobFilesChecked = 0;
  let bytesHashed = 0;
  let server: RunningServer | undefined;
  let workers: Worker[] = [];

  /** Checks every acknowledgement since the last check, and the whole store. */
  async function verify(label: string): Promise<void> {
    const reader = createPusher((server as RunningServer).url);
    try {
      for (const blob of ledger.blobs.slice(verifiedBlobs)) {
        const problem = await reader.verifyBlob(blob);
        if (problem) violations.push(`${label}: ${problem}`);
      }
      for (const manifest of ledger.manifests.slice(verifiedManifests)) {
        const problem = await reader.verifyManifest(manifest);
        if (problem) violations.push(`${label}: ${problem}`);
      }
      verifiedBlobs = ledger.blobs.length;
      verifiedManifests = ledger.manifests.length;
    } finally {
      reader.close();
    }
    const check = await checkStore(dataDir, cache);
    violations.push(...check.violations.map((v) => `${label}: ${v}`));
    blobFilesChecked = check.blobFiles;
    bytesHashed += check.hashedBytes;
  }

  try {
    for (let round = 1; round <= options.rounds; round++) {
      server = await startChartroom(dir, dataDir, { env: { CHARTROOM_LOG_LEVEL: 'warn' } });
      // What the last kill cut off is finished first, on the restarted server: leftovers must not block.
      for (const worker of workers) {
        const fresh = createPusher(server.url);
        worker.pusher.close();
        worker.pusher = fresh;
        try {
          const problem = await finish(worker, ledger);
          if (problem) violations.push(`round ${round - 1}: ${problem}`);
          else if (worker.current) resumed += 1;
        } catch (err) {
          violations.push(`round ${round - 1}: finishing an interrupted push failed: ${(err as Error).message}`);
        }
        worker.current = undefined;
      }
      await verify(`after restart ${round - 1}`);

      workers = Array.from({ length: options.pushers }, () => ({ pusher: createPusher(server!.url), rng: createRng(rng.seed()) }));
      let killed = false;
      const loops = workers.map((worker, index) =>
        pushLoop(worker, `crash/p${index}`, round, index, ledger, pool, options).catch((err: unknown) => {
          // After the kill every request fails; before it, any failure is a fault of the server.
          if (!killed || err instanceof UnexpectedStatus) violations.push(`round ${round}: ${(err as Error).message}`);
        }),
      );
      const delay = rng.int(options.killAfterMs[0], options.killAfterMs[1]);
      await new Promise((resolve) => setTimeout(resolve, delay));
      killed = true;
      await server.kill('SIGKILL');
      await Promise.all(loops);
      const inFlight = workers.filter((w) => w.current).length;
      log(
        `round ${round}: killed after ${delay} ms; ${ledger.blobs.length} blobs and ${ledger.manifests.length} manifests acknowledged so far, ` +
          `${inFlight} pushes in flight; ${violations.length} violations`,
      );
    }
    server = await startChartroom(dir, dataDir, { env: { CHARTROOM_LOG_LEVEL: 'warn' } });
    for (const worker of workers) {
      worker.pusher.close();
      worker.pusher = createPusher(server.url);
      const problem = await finish(worker, ledger).catch((err: unknown) => `finishing an interrupted push failed: ${(err as Error).message}`);
      if (problem) violations.push(`last round: ${problem}`);
      else if (worker.current) resumed += 1;
    }
    // The last look covers everything from every round.
    verifiedBlobs = 0;
    verifiedManifests = 0;
    await verify('final');
    await server.stop();
    return {
      rounds: options.rounds,
      acknowledgedBlobs: ledger.blobs.length,
      acknowledgedManifests: ledger.manifests.length,
      resumed,
      blobFilesChecked,
      bytesHashed,
      violations,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    for (const worker of workers) worker.pusher.close();
    await server?.kill('SIGKILL');
    if (!options.dir) rmSync(dir, { recursive: true, force: true });
  }
}
