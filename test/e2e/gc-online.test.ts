import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { runCli, type CliResult } from '../helpers/cli.js';
import { imageManifest, mediaTypes, sha256 } from '../helpers/oci.js';
import { startServer, tempDataDir } from '../helpers/server.js';


function runGc(data: string, args: string[]): Promise<CliResult> {
  return runCli(['gc', '--data', data, ...args]);
}

interface Pushed {
  repository: string;
  digest: string;
  blobs: string[];
}

t.test('chartroom gc runs while clients push and delete; nothing referenced is ever removed', async (t) => {
  const data = tempDataDir(t);
  const server = await startServer(t, {}, data);
  // Layers shared between pushes: they become garbage when every manifest using them is deleted,
  // and are then pushed again (or only HEADed, as helm does) while a collection may be removing them.
  const shared = Array.from({ length: 6 }, () => randomBytes(4096));
  const acknowledged: Pushed[] = [];
  const deleted = new Set<string>();
  let retries = 0;
  let stop = false;

  async function pushBlob(repository: string, bytes: Buffer): Promise<void> {
    const digest = sha256(bytes);
    if ((await fetch(`${server.url}/v2/${repository}/blobs/${digest}`, { method: 'HEAD' })).status === 200) return;
    const res = await fetch(`${server.url}/v2/${repository}/blobs/uploads/?digest=${digest}`, { method: 'POST', body: new Uint8Array(bytes) });
    if (res.status !== 201) throw new Error(`blob push: ${res.status} ${await res.text()}`);
  }

  async function push(worker: number, round: number): Promise<void> {
    const repository = `team/w${worker}`;
    const config = Buffer.from(JSON.stringify({ worker, round }));
    const layers = [shared[(worker + round) % shared.length] as Buffer, randomBytes(1024 + round)];
    const manifest = imageManifest(config, layers);
    for (let attempt = 1; ; attempt++) {
      for (const blob of [config, ...layers]) await pushBlob(repository, blob);
      const res = await fetch(`${server.url}/v2/${repository}/manifests/r${round}`, {
        method: 'PUT',
        body: new Uint8Array(manifest),
        headers: { 'content-type': mediaTypes.ociManifest },
      });
      if (res.status === 201) break;
      // A blob HEAD found may be collected before the manifest names it: push it again, like a client would.
      const body = await res.text();
      if (res.status !== 400 || !body.includes('MANIFEST_BLOB_UNKNOWN') || attempt === 3) throw new Error(`manifest push: ${res.status} ${body}`);
      retries++;
    }
    acknowledged.push({ repository, digest: sha256(manifest), blobs: [config, ...layers].map((blob) => sha256(blob)) });
  }

  async function deleter(): Promise<void> {
    while (!stop) {
      const victim = acknowledged[Math.floor(Math.random() * acknowledged.length)];
      if (victim && !deleted.has(victim.digest) && Math.random() < 0.5) {
        const res = await fetch(`${server.url}/v2/${victim.repository}/manifests/${victim.digest}`, { method: 'DELETE' });
        if (res.status === 202) deleted.add(victim.digest);
        else t.fail(`delete answered ${res.status}: ${await res.text()}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  const collections: string[] = [];
  async function collector(): Promise<void> {
    while (!stop) {
      const run = await runGc(data, ['--grace', '1s', '--untagged']);
      t.equal(run.status, 0, run.stderr);
      collections.push(run.stderr.trim());
    }
  }

  const pushers = Array.from({ length: 4 }, async (_, worker) => {
    for (let round = 0; round < 30; round++) await push(worker, round);
  });
  const background = [deleter(), collector(), collector()];
  await Promise.all(pushers);
  // Let the collectors see the last deletes age past the grace period.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  stop = true;
  await Promise.all(background);
  t.ok(collections.length >= 2, `${collections.length} collections ran during the pushes`);
  t.ok(collections.some((line) => /removed \d+ manifests .*, [1-9]\d* blobs/.test(line)), 'some of them removed blobs');
  t.comment(`${acknowledged.length} pushes, ${deleted.size} deletes, ${retries} re-pushes after a collection, last: ${collections.at(-1)}`);

  const live = acknowledged.filter((pushed) => !deleted.has(pushed.digest));
  for (const pushed of live) {
    const manifest = await fetch(`${server.url}/v2/${pushed.repository}/manifests/${pushed.digest}`);
    t.equal(manifest.status, 200, `${pushed.repository}@${pushed.digest.slice(7, 19)} still there`);
    for (const digest of pushed.blobs) {
      const blob = await fetch(`${server.url}/v2/${pushed.repository}/blobs/${digest}`);
      const bytes = Buffer.from(await blob.arrayBuffer());
      if (blob.status !== 200 || sha256(bytes) !== digest) t.fail(`blob ${digest} of a live manifest: ${blob.status}`);
    }
  }
  t.pass(`${live.length} live manifests and their blobs verified byte for byte`);

  // Once nothing is in flight, a collection without grace leaves exactly the referenced blobs.
  const last = await runGc(data, ['--grace', '0s']);
  t.equal(last.status, 0, last.stderr);
  const referenced = new Set(live.flatMap((pushed) => pushed.blobs));
  const root = join(data, 'blobs', 'sha256');
  const files = readdirSync(root).flatMap((prefix) => readdirSync(join(root, prefix)).map((hex) => `sha256:${hex}`));
  t.same(files.sort(), [...referenced].sort(), 'the blob folder holds exactly what live manifests reference');
});
