import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { chartroomBin, runCli } from '../helpers/cli.js';
import { chartTgz, pushChart } from '../helpers/charts.js';
import { sha256 } from '../helpers/oci.js';
import { buildTestApp, tempDataDir } from '../helpers/server.js';

// Backups copy the embedded store; with PostgreSQL the commands refuse (test/e2e/cli.test.ts).
const embeddedOnly = process.env.CHARTROOM_TEST_METADATA === 'postgres' ? 'backup and restore are for the embedded store' : false;

const bin = chartroomBin;

interface Manifest {
  config: { digest: string };
  layers: { digest: string }[];
}

t.test('a backup taken during pushes restores to a working registry', { skip: embeddedOnly }, async (t) => {
  const dir = tempDataDir(t);
  const data = join(dir, 'data');
  // A first start with auth on creates the token signing key, which the backup must carry.
  await (await buildTestApp(t, { 'auth.enabled': true }, data)).app.close();
  const signingKey = readFileSync(join(data, 'auth', 'signing-key.pem'));
  const { app } = await buildTestApp(t, {}, data);
  const acknowledged: { version: string; at: number }[] = [];
  let pushing = true;
  const pusher = (async () => {
    for (let i = 0; pushing && i < 2000; i++) {
      const version = `1.0.${i}`;
      const { res } = await pushChart(app, 'team/app', chartTgz({ name: 'app', version }), version);
      t.equal(res.statusCode, 201);
      acknowledged.push({ version, at: Date.now() });
    }
  })();
  for (let wait = 0; wait < 200 && acknowledged.length < 10; wait++) await new Promise((resolve) => setTimeout(resolve, 50));
  const backupStarted = Date.now();
  const taken = await runCli(['backup', join(dir, 'backup'), '--data', data]);
  pushing = false;
  await pusher;
  t.equal(taken.status, 0, taken.stderr);
  t.match(taken.stderr, /backup of .* written to .*: \d+ blobs \(.*\) in \d+ ms/);
  const before = acknowledged.filter((push) => push.at < backupStarted).map((push) => push.version);
  t.ok(before.length > 0 && acknowledged.length > before.length, `${before.length} pushes before the backup, ${acknowledged.length - before.length} during it`);

  const restoredData = join(dir, 'restored');
  const restored = await runCli(['restore', join(dir, 'backup'), '--data', restoredData]);
  t.equal(restored.status, 0, restored.stderr);
  t.match(restored.stderr, /restored .* blobs \(.*\) verified/);
  t.same(readdirSync(dir).sort(), ['backup', 'data', 'restored'], 'no staging directory left');

  const { app: second } = await buildTestApp(t, {}, restoredData);
  const tags = JSON.parse((await second.inject({ method: 'GET', url: '/v2/team/app/tags/list' })).body) as { tags: string[] };
  for (const version of before) t.ok(tags.tags.includes(version), `${version}, pushed before the backup, is restored`);
  for (const tag of tags.tags) {
    const manifest = await second.inject({ method: 'GET', url: `/v2/team/app/manifests/${tag}` });
    const body = JSON.parse(manifest.body) as Manifest;
    for (const digest of [body.config.digest, ...body.layers.map((layer) => layer.digest)]) {
      const blob = await second.inject({ method: 'GET', url: `/v2/team/app/blobs/${digest}` });
      if (blob.statusCode !== 200 || sha256(blob.rawPayload) !== digest) t.fail(`${tag}: blob ${digest} not restored`);
    }
  }
  t.pass(`${tags.tags.length} restored versions, every blob verified`);
  const index = await second.inject({ method: 'GET', url: '/chartrepo/team/index.yaml' });
  t.equal(index.statusCode, 200);
  t.match(index.body, /app-1\.0\.0\.tgz/, 'the classic index renders from the restored database');
  const search = JSON.parse((await second.inject({ method: 'GET', url: '/api/v1/search?q=app' })).body) as { results: { repository: string }[] };
  t.same(search.results.map((hit) => hit.repository), ['team/app'], 'and search finds the chart');
  t.ok(readFileSync(join(restoredData, 'auth', 'signing-key.pem')).equals(signingKey), 'the token signing key is restored');
  t.equal((await pushChart(second, 'team/app', chartTgz({ name: 'app', version: '9.9.9' }), '9.9.9')).res.statusCode, 201, 'the restored registry takes pushes');
});

t.test('backup and restore refuse to overwrite, and a damaged backup restores nothing', { skip: embeddedOnly }, async (t) => {
  const dir = tempDataDir(t);
  const data = join(dir, 'data');
  const { app } = await buildTestApp(t, {}, data);
  await pushChart(app, 'team/db', chartTgz({ name: 'db', version: '2.0.0' }), '2.0.0');
  mkdirSync(join(dir, 'full'));
  writeFileSync(join(dir, 'full', 'x'), 'x');
  const refused = spawnSync(process.execPath, [bin, 'backup', join(dir, 'full'), '--data', data], { encoding: 'utf8' });
  t.equal(refused.status, 1);
  t.match(refused.stderr, /the backup directory .*full is not empty/);

  t.equal(spawnSync(process.execPath, [bin, 'backup', join(dir, 'backup'), '--data', data]).status, 0);
  const overData = spawnSync(process.execPath, [bin, 'restore', join(dir, 'backup'), '--data', data], { encoding: 'utf8' });
  t.equal(overData.status, 1);
  t.match(overData.stderr, /the data directory .* is not empty/);
  const notBackup = spawnSync(process.execPath, [bin, 'restore', join(dir, 'full'), '--data', join(dir, 'x')], { encoding: 'utf8' });
  t.equal(notBackup.status, 1);
  t.match(notBackup.stderr, /is not a Chartroom backup/);

  const blobsDir = join(dir, 'backup', 'blobs', 'sha256');
  const prefix = readdirSync(blobsDir)[0] as string;
  appendFileSync(join(blobsDir, prefix, readdirSync(join(blobsDir, prefix))[0] as string), 'rot');
  const damaged = spawnSync(process.execPath, [bin, 'restore', join(dir, 'backup'), '--data', join(dir, 'restored')], { encoding: 'utf8' });
  t.equal(damaged.status, 1);
  t.match(damaged.stderr, /blob sha256:[0-9a-f]{64} is damaged/);
  t.notOk(existsSync(join(dir, 'restored')), 'nothing restored');
  t.same(readdirSync(dir).sort(), ['backup', 'data', 'full'], 'and no staging directory left');
  t.match(spawnSync(process.execPath, [bin, 'backup', '--help'], { encoding: 'utf8' }).stdout, /Usage: chartroom backup <dir>/);
});
