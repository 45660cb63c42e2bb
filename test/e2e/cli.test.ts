import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { chartTgz, pushChart } from '../helpers/charts.js';
import { buildTestApp, tempDataDir } from '../helpers/server.js';
import { metadataEnv } from '../helpers/backends.js';
import { startCli } from '../helpers/cli.js';

const bin = fileURLToPath(new URL('../../bin/chartroom.js', import.meta.url));

t.test('serve: logs its URL as JSON when ready, serves, exits 0 on SIGTERM', async (t) => {
  const data = join(tempDataDir(t), 'data');
  const server = await startCli(['serve', '--host', '127.0.0.1', '--port', '0', '--data', data]);
  const ready = JSON.parse(server.lines.at(-1) as string) as { level: number; msg: string };
  t.equal(ready.level, 30, 'a pino JSON line');
  const res = await fetch(`${server.url}/v2/`);
  t.equal(res.status, 200);
  t.equal(res.headers.get('docker-distribution-api-version'), 'registry/2.0');
  for (const entry of ['chartroom.db', 'blobs', 'uploads']) t.ok(existsSync(join(data, entry)), `${entry} created on first start`);
  server.kill('SIGTERM');
  t.equal(await server.exit, 0, 'clean exit');
});

t.test('serve takes its settings from CHARTROOM_* variables', async (t) => {
  const data = join(tempDataDir(t), 'env-data');
  const server = await startCli([], { CHARTROOM_HOST: '127.0.0.1', CHARTROOM_PORT: '0', CHARTROOM_DATA: data });
  t.ok(existsSync(join(data, 'chartroom.db')), 'data dir from CHARTROOM_DATA');
  server.kill('SIGINT');
  t.equal(await server.exit, 0);
});

t.test('a bad setting stops the start with the field named', async (t) => {
  const port = spawnSync(process.execPath, [bin, 'serve', '--port', 'nope'], { encoding: 'utf8' });
  t.equal(port.status, 2);
  t.match(port.stderr, /'port' must be integer/);

  const file = join(tempDataDir(t), 'config.yaml');
  writeFileSync(file, 'limits:\n  maxManifestBytes: lots\n');
  const config = spawnSync(process.execPath, [bin, 'serve', '--config', file], { encoding: 'utf8' });
  t.equal(config.status, 2);
  t.match(config.stderr, /'limits.maxManifestBytes' must be integer/);

  const flag = spawnSync(process.execPath, [bin, 'serve', '--colour'], { encoding: 'utf8' });
  t.equal(flag.status, 2);
  t.match(flag.stderr, /Unknown option '--colour'/);

  const help = spawnSync(process.execPath, [bin, '--help'], { encoding: 'utf8' });
  t.equal(help.status, 0);
  t.match(help.stdout, /Usage: chartroom/);
});

t.test('a SIGTERM right after the ready line still shuts down cleanly', async (t) => {
  const data = join(tempDataDir(t), 'race-data');
  for (let round = 0; round < 5; round++) {
    const server = await startCli(['serve', '--host', '127.0.0.1', '--port', '0', '--data', data]);
    server.kill('SIGTERM');
    t.equal(await server.exit, 0, `round ${round}`);
  }
});

t.test('rebuild: rebuilds the search index of a data directory', async (t) => {
  const data = tempDataDir(t);
  const { app } = await buildTestApp(t, {}, data);
  await pushChart(app, 'team/app', chartTgz({ name: 'app', version: '1.0.0' }), '1.0.0');
  await pushChart(app, 'team/db', chartTgz({ name: 'db', version: '2.0.0' }), '2.0.0');
  const rebuilt = spawnSync(process.execPath, [bin, 'rebuild', '--data', data], { encoding: 'utf8', env: { ...process.env, ...metadataEnv(data) } });
  t.equal(rebuilt.status, 0, rebuilt.stderr);
  t.match(rebuilt.stderr, /search index rebuilt: 2 charts in \d+ ms/);
  const found = await app.inject({ method: 'GET', url: '/api/v1/search?q=db' });
  t.same(JSON.parse(found.body).results.map((r: { repository: string }) => r.repository), ['team/db'], 'the running server reads the rebuilt index');
  const off = spawnSync(process.execPath, [bin, 'rebuild', '--data', data], { encoding: 'utf8', env: { ...process.env, ...metadataEnv(data), CHARTROOM_CHARTS_SEARCH: 'false' } });
  t.equal(off.status, 1);
  t.match(off.stderr, /search is turned off/);
  const help = spawnSync(process.execPath, [bin, '--help'], { encoding: 'utf8' });
  t.match(help.stdout, /rebuild\s+rebuild the chart search index/);
});

t.test('user add|list|remove edit the htpasswd file; a running server sees the change', async (t) => {
  const dir = tempDataDir(t);
  const htpasswd = join(dir, 'htpasswd');
  const user = (args: string[], input = '') => spawnSync(process.execPath, [bin, 'user', ...args, '--htpasswd', htpasswd], { encoding: 'utf8', input });
  t.equal(user(['add', 'alice'], 'first-password\n').status, 0);
  const { app } = await buildTestApp(t, { 'auth.enabled': true, 'auth.htpasswd': htpasswd, 'auth.rules': [{ repository: '**', pull: ['*'] }] });
  const login = async (name: string, password: string) =>
    (await app.inject({ method: 'GET', url: '/auth/token?service=chartroom', headers: { authorization: `Basic ${Buffer.from(`${name}:${password}`).toString('base64')}` } })).statusCode;
  t.equal(await login('alice', 'first-password'), 200);

  const added = user(['add', 'bob'], 'bobs-password\n');
  t.equal(added.status, 0);
  t.match(added.stderr, /user bob added/);
  t.equal(user(['add', 'alice'], 'second-password\n').status, 0, 'a new password for alice');
  t.same(user(['list']).stdout.split('\n').filter(Boolean).sort(), ['alice', 'bob']);
  t.match(readFileSync(htpasswd, 'utf8'), /^bob:\$2[aby]\$10\$/m, 'bcrypt, as htpasswd -B writes it');
  await new Promise((resolve) => setTimeout(resolve, 1100));
  t.equal(await login('bob', 'bobs-password'), 200, 'a running server sees a new user without a restart');
  t.equal(await login('alice', 'first-password'), 401, 'and a changed password');
  t.equal(await login('alice', 'second-password'), 200);

  t.equal(user(['remove', 'bob']).status, 0);
  t.equal(user(['remove', 'bob']).status, 1, 'removing an absent user fails');
  await new Promise((resolve) => setTimeout(resolve, 1100));
  t.equal(await login('bob', 'bobs-password'), 401, 'a removed user cannot log in');

  t.equal(user(['add', 'carol']).status, 2, 'no password on stdin');
  t.equal(user(['add', 'bad:name'], 'pw\n').status, 1);
  const noFile = spawnSync(process.execPath, [bin, 'user', 'list'], { encoding: 'utf8', env: { ...process.env, CHARTROOM_AUTH_HTPASSWD: '' } });
  t.equal(noFile.status, 2);
  t.match(noFile.stderr, /no htpasswd file/);
});

t.test('version and per-command help', async (t) => {
  const version = spawnSync(process.execPath, [bin, 'version'], { encoding: 'utf8' });
  t.equal(version.status, 0);
  t.match(version.stdout, /^chartroom \d+\.\d+\.\d+\n$/);
  for (const command of ['serve', 'token', 'user', 'rebuild', 'version']) {
    const help = spawnSync(process.execPath, [bin, command, '--help'], { encoding: 'utf8' });
    t.equal(help.status, 0, command);
    t.match(help.stdout, new RegExp(`^Usage: chartroom (\\[)?${command}`), `${command} --help starts with its own usage`);
    t.match(help.stdout, /Options:/);
  }
});

t.test('gc: --dry-run lists what would go and removes nothing; a real run removes it', async (t) => {
  const data = tempDataDir(t);
  const { app } = await buildTestApp(t, {}, data);
  await pushChart(app, 'team/app', chartTgz({ name: 'app', version: '1.0.0' }), '1.0.0');
  const orphan = await app.inject({ method: 'POST', url: `/v2/team/app/blobs/uploads/?digest=sha256:${'b'.repeat(64)}`, payload: 'x' });
  t.equal(orphan.statusCode, 400, 'a wrong digest is refused and stores nothing');
  const bytes = Buffer.from('unreferenced bytes');
  const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  t.equal((await app.inject({ method: 'POST', url: `/v2/team/app/blobs/uploads/?digest=${digest}`, payload: bytes })).statusCode, 201);
  await new Promise((resolve) => setTimeout(resolve, 5));
  const gc = (...args: string[]) => spawnSync(process.execPath, [bin, 'gc', '--data', data, ...args], { encoding: 'utf8', env: { ...process.env, ...metadataEnv(data) } });

  const dry = gc('--dry-run', '--grace', '0s');
  t.equal(dry.status, 0, dry.stderr);
  t.equal(dry.stdout, `blob\t${digest}\t${bytes.length}\n`);
  t.match(dry.stderr, /^gc would remove 0 manifests \(0 B\), 1 blobs \(18 B\), 0 files \(0 B\) in \d+ ms\n$/);
  t.equal((await app.inject({ method: 'HEAD', url: `/v2/team/app/blobs/${digest}` })).statusCode, 200, 'still there after a dry run');

  t.equal(gc().stdout, '', 'the default grace period (1 h) keeps a blob just pushed');
  const real = gc('--grace', '0s');
  t.equal(real.status, 0);
  t.match(real.stderr, /gc removed 0 manifests \(0 B\), 1 blobs \(18 B\)/);
  t.equal((await app.inject({ method: 'HEAD', url: `/v2/team/app/blobs/${digest}` })).statusCode, 404, 'gone after a real run');
  t.equal((await app.inject({ method: 'GET', url: '/v2/team/app/manifests/1.0.0' })).statusCode, 200, 'the chart stays');

  const bad = gc('--grace', 'soon');
  t.equal(bad.status, 2);
  t.match(bad.stderr, /not a duration: soon/);
  t.match(spawnSync(process.execPath, [bin, 'gc', '--help'], { encoding: 'utf8' }).stdout, /Usage: chartroom gc \[--dry-run\] \[--untagged\]/);
});

t.test('a missing htpasswd file stops the start with a clear message, not a stack trace', async (t) => {
  const dir = tempDataDir(t);
  const missing = join(dir, 'htpasswd');
  const run = spawnSync(process.execPath, [bin, 'serve', '--data', join(dir, 'data'), '--port', '0'], {
    encoding: 'utf8',
    env: { ...process.env, CHARTROOM_AUTH_ENABLED: 'true', CHARTROOM_AUTH_HTPASSWD: missing },
  });
  t.equal(run.status, 2);
  t.equal(run.stderr, `chartroom: auth.htpasswd: cannot read ${missing}: ENOENT (create it with: chartroom user add <name> --htpasswd ${missing})\n`);
});
