// Two Chartroom processes over one PostgreSQL and one S3 (radosgw): what a load balancer in front
// of several replicas relies on. Helm pushes through one and pulls through the other; a chunked
// upload started on one is finished on the other; a tag moved on one is seen by the other at
// once, cached views included; a token from one is taken by the other; garbage collection on both
// at once removes nothing referenced; and nginx with docker/nginx.ha.conf in front of both works.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { exportPKCS8, generateKeyPair } from 'jose';
import t, { type Test } from 'tap';
import { stringify as toYaml } from 'yaml';
import { freshPostgresUrl, haveBackend, testDatabaseUrl } from '../helpers/backends.js';
import { basic, passwordOf, testUser } from '../helpers/auth.js';
import { runCli, startCli, type Started } from '../helpers/cli.js';
import { helmFor, makeChart, ociArgs, helm, pullOne } from '../helpers/helm.js';
import { httpGet, httpRequest } from '../helpers/http.js';
import { imageManifest, mediaTypes, sha256 } from '../helpers/oci.js';
import { tempDataDir } from '../helpers/server.js';
import { isExecutable, onPath } from '../helpers/which.js';
import { testBucket } from '../backends/s3.js';

const mib = 1024 * 1024;

interface Replica extends Started {
  host: string;
  env: Record<string, string>;
}

/** A config file and environment two replicas share: PostgreSQL, the S3 bucket, auth with one signing key. */
async function sharedSetup(t: Test, bucket: NonNullable<Awaited<ReturnType<typeof testBucket>>>) {
  const dir = tempDataDir(t);
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const key = join(dir, 'signing-key.pem');
  writeFileSync(key, await exportPKCS8(privateKey), { mode: 0o600 });
  const config = join(dir, 'chartroom.yaml');
  writeFileSync(
    config,
    toYaml({
      auth: {
        enabled: true,
        signingKey: key,
        users: [testUser('alice')],
        rules: [
          { repository: 'private/**', pull: ['alice'], push: ['alice'], delete: ['alice'] },
          { repository: '**', pull: ['anonymous'], push: ['alice'], delete: ['alice'] },
        ],
      },
      storage: { driver: 's3', s3: { ...bucket.config, partSizeBytes: 5 * mib } },
    }),
  );
  const env = {
    CHARTROOM_CONFIG: config,
    CHARTROOM_METADATA_DRIVER: 'postgres',
    CHARTROOM_DATABASE_URL: await freshPostgresUrl(t),
  };
  return { dir, env };
}

async function startReplica(t: Test, name: string, setup: { dir: string; env: Record<string, string> }): Promise<Replica> {
  const data = join(setup.dir, name);
  mkdirSync(data);
  const env = { ...setup.env, CHARTROOM_DATA: data };
  const started = await startCli(['serve', '--host', '127.0.0.1', '--port', '0'], env, 60_000);
  t.teardown(async () => {
    started.kill('SIGTERM');
    await started.exit;
  });
  return { ...started, host: new URL(started.url).host, env };
}

async function bearer(replica: Replica, scope: string): Promise<string> {
  const res = await httpGet(`${replica.url}/auth/token?service=chartroom&scope=${encodeURIComponent(scope)}`, { authorization: basic('alice') });
  if (res.status !== 200) throw new Error(`token from ${replica.url}: ${res.status} ${res.body.toString()}`);
  return `Bearer ${(JSON.parse(res.body.toString()) as { token: string }).token}`;
}

/** `Location` of an upload session, made absolute on the replica given (or a base URL), with a digest to commit. */
function on(replica: Replica | string, location: string, digest?: string): string {
  const url = new URL(location, typeof replica === 'string' ? replica : replica.url);
  if (digest !== undefined) url.searchParams.set('digest', digest);
  return url.toString();
}

const s3 = await testBucket(t);
const postgres = haveBackend(t, 'PostgreSQL (CHARTROOM_TEST_DATABASE_URL)', testDatabaseUrl !== undefined);

if (s3 && postgres) {
  const setup = await sharedSetup(t, s3);
  const a = await startReplica(t, 'a', setup);
  const b = await startReplica(t, 'b', setup);

  t.test('helm pushes through one replica and pulls through the other', async (t) => {
    for (const major of [3, 4] as const) {
      const h = helmFor(t, major);
      if (!h) return;
      const [from, to] = major === 4 ? [a, b] : [b, a];
      const login = spawnSync(h.bin, ociArgs(h, ['registry', 'login', from.host, '--username', 'alice', '--password-stdin']), { env: h.env, input: passwordOf('alice') });
      t.equal(login.status, 0, `helm ${major} logs in to one replica: ${login.stderr}`);
      const chart = await makeChart(h, tempDataDir(t), { name: `app${major}`, version: '1.0.0', description: 'across replicas', readme: '# Across' });
      await helm(h, ociArgs(h, ['push', chart.file, `oci://${from.host}/team`]));
      const pulled = await pullOne(t, h, `oci://${to.host}/team/app${major}`, ['--version', '1.0.0']);
      t.ok(pulled.bytes.equals(chart.bytes), `helm ${major}: pulled from the other replica, byte for byte`);
      const index = await httpGet(`${to.url}/chartrepo/team/index.yaml`);
      t.match(index.body.toString(), new RegExp(`app${major}`), "the other replica's classic index has it at once");
      const search = JSON.parse((await httpGet(`${to.url}/api/v1/search?q=app${major}`)).body.toString()) as { total: number };
      t.equal(search.total, 1, 'and its search');
    }
  });

  t.test('a token from one replica is taken by the other', async (t) => {
    const token = await bearer(a, 'repository:private/app:pull,push');
    const refused = await httpGet(`${b.url}/v2/private/app/tags/list`);
    t.equal(refused.status, 401, 'without it: 401');
    const listed = await httpGet(`${b.url}/v2/private/app/tags/list`, { authorization: token });
    t.equal(listed.status, 404, 'with it: past access control (the repository does not exist yet)');
  });

  t.test('a chunked upload started on one replica is finished on the other', async (t) => {
    const auth = { authorization: await bearer(a, 'repository:team/chunked:pull,push') };
    const blob = randomBytes(13 * mib + 12_345);
    const digest = sha256(blob);
    const start = await httpRequest(`${a.url}/v2/team/chunked/blobs/uploads/`, 'POST', { ...auth, 'content-length': '0' });
    t.equal(start.status, 202);
    let location = start.headers.location as string;
    // Chunks straddling the 5 MiB part size, alternating between the replicas.
    const cuts = [0, 3 * mib, 9 * mib + 7, 9 * mib + 100, 12 * mib];
    for (const [i, from] of cuts.entries()) {
      const to = cuts[i + 1] ?? blob.length - 1000;
      const replica = i % 2 === 0 ? a : b;
      const res = await httpRequest(on(replica, location), 'PATCH', { ...auth, 'content-range': `${from}-${to - 1}`, 'content-type': 'application/octet-stream' }, blob.subarray(from, to));
      t.equal(res.status, 202, `chunk ${i} (${from}-${to - 1}) on replica ${i % 2 === 0 ? 'a' : 'b'}`);
      t.equal(res.headers.range, `0-${to - 1}`);
      location = res.headers.location as string;
    }
    const status = await httpGet(on(a, location), auth);
    t.equal(status.headers.range, `0-${blob.length - 1001}`, 'either replica knows where the upload is');
    const put = await httpRequest(on(b, location, digest), 'PUT', { ...auth, 'content-type': 'application/octet-stream' }, blob.subarray(blob.length - 1000));
    t.equal(put.status, 201, `the last chunk and the commit on the other replica: ${put.body.toString()}`);
    for (const replica of [a, b]) {
      const got = await httpGet(`${replica.url}/v2/team/chunked/blobs/${digest}`, auth);
      t.equal(sha256(got.body), digest, `replica ${replica === a ? 'a' : 'b'} serves the blob byte for byte`);
    }

    // Two writers at the same offset on two replicas: one chunk goes in, the other is refused.
    const again = await httpRequest(`${a.url}/v2/team/chunked/blobs/uploads/`, 'POST', { ...auth, 'content-length': '0' });
    const first = randomBytes(mib);
    const second = randomBytes(mib);
    const racing = await Promise.all(
      [
        [a, first],
        [b, second],
      ].map(([replica, bytes]) =>
        httpRequest(on(replica as Replica, again.headers.location as string), 'PATCH', { ...auth, 'content-range': `0-${mib - 1}`, 'content-type': 'application/octet-stream' }, bytes as Buffer),
      ),
    );
    const statuses = racing.map((res) => res.status).sort();
    t.ok(statuses.includes(202), `one chunk was taken (${statuses.join(', ')})`);
    t.ok(statuses.every((s) => s === 202 || s === 409 || s === 416), 'the other, if it overlapped, was refused');
    const winner = racing.find((res) => res.status === 202);
    const winning = winner === racing[0] ? first : second;
    if (statuses.filter((s) => s === 202).length === 1) {
      const done = await httpRequest(on(b, winner?.headers.location as string, sha256(winning)), 'PUT', auth, Buffer.alloc(0));
      t.equal(done.status, 201, "the upload holds exactly the winner's bytes");
    }
  });

  t.test('a tag moved on one replica is seen by the other at once, cached views too', async (t) => {
    const auth = { authorization: await bearer(a, 'repository:team/moving:pull,push') };
    const config = Buffer.from('{}');
    const configDigest = sha256(config);
    const started = await httpRequest(`${a.url}/v2/team/moving/blobs/uploads/?digest=${configDigest}`, 'POST', { ...auth, 'content-type': 'application/octet-stream' }, config);
    t.equal(started.status, 201);
    // The other replica is read with a token the other one issued.
    const tags = async (replica: Replica) => (JSON.parse((await httpGet(`${replica.url}/v2/team/moving/tags/list`, auth)).body.toString()) as { tags: string[] }).tags;
    for (let round = 0; round < 10; round++) {
      const manifest = imageManifest(config, [], { annotations: { round: String(round) } });
      const put = await httpRequest(`${a.url}/v2/team/moving/manifests/latest`, 'PUT', { ...auth, 'content-type': mediaTypes.ociManifest }, manifest);
      t.equal(put.status, 201);
      const seen = await httpGet(`${b.url}/v2/team/moving/manifests/latest`, { ...auth, accept: mediaTypes.ociManifest });
      t.equal(seen.headers['docker-content-digest'], sha256(manifest), `round ${round}: the other replica answers with the moved tag at once`);
      await httpRequest(`${a.url}/v2/team/moving/manifests/r${round}`, 'PUT', { ...auth, 'content-type': mediaTypes.ociManifest }, manifest);
      t.ok((await tags(b)).includes(`r${round}`), `round ${round}: and lists the new tag at once (its cached list)`);
    }
  });

  t.test('garbage collection on both replicas at once removes nothing referenced', async (t) => {
    const auth = { authorization: await bearer(a, 'repository:team/gc:pull,push,delete') };
    const live: { manifest: Buffer; blobs: Buffer[] }[] = [];
    for (let i = 0; i < 12; i++) {
      const blobs = [randomBytes(1000 + i), randomBytes(2000 + i)];
      for (const bytes of blobs) {
        const res = await httpRequest(`${(i % 2 ? a : b).url}/v2/team/gc/blobs/uploads/?digest=${sha256(bytes)}`, 'POST', { ...auth, 'content-type': 'application/octet-stream' }, bytes);
        t.equal(res.status, 201);
      }
      const manifest = imageManifest(blobs[0] as Buffer, [blobs[1] as Buffer]);
      t.equal((await httpRequest(`${a.url}/v2/team/gc/manifests/v${i}`, 'PUT', { ...auth, 'content-type': mediaTypes.ociManifest }, manifest)).status, 201);
      // Every other one is deleted again: its two blobs become garbage.
      if (i % 2) t.equal((await httpRequest(`${b.url}/v2/team/gc/manifests/${sha256(manifest)}`, 'DELETE', auth)).status, 202);
      else live.push({ manifest, blobs });
    }
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const runs = await Promise.all([a, b].map((replica) => runCli(['gc', '--grace', '1s', '--untagged'], replica.env)));
    for (const run of runs) t.equal(run.status, 0, run.stderr);
    const said = runs.map((run) => run.stderr).join('\n');
    t.match(said, /gc removed \d+ manifests .*, \d+ blobs/, 'one collected');
    for (const { manifest, blobs } of live) {
      for (const replica of [a, b]) {
        const got = await httpGet(`${replica.url}/v2/team/gc/manifests/${sha256(manifest)}`, { ...auth, accept: mediaTypes.ociManifest });
        t.equal(got.status, 200);
        for (const bytes of blobs) t.equal(sha256((await httpGet(`${replica.url}/v2/team/gc/blobs/${sha256(bytes)}`, auth)).body), sha256(bytes));
      }
    }
    const again = await runCli(['gc', '--grace', '0s'], a.env);
    t.match(again.stderr, /gc removed 0 manifests \(0 B\), 0 blobs/, 'a later collection finds nothing more of these');
    const keys = await s3.client.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: 'blobs/' }));
    t.ok((keys.KeyCount ?? 0) > 0, 'objects remain in the bucket');
  });

  t.test('nginx with docker/nginx.ha.conf in front of both replicas', async (t) => {
    const nginx = onPath('nginx') ?? ['/usr/sbin/nginx'].find((file) => isExecutable(file));
    if (!nginx) {
      t.pass('nginx', { skip: 'nginx is not installed (apt-get install nginx-light)' });
      return;
    }
    const port = await freePort();
    const prefix = tempDataDir(t);
    const conf = readFileSync(fileURLToPath(new URL('../../docker/nginx.ha.conf', import.meta.url)), 'utf8')
      .replace(/server chartroom-1:5000/, `server ${a.host}`)
      .replace(/server chartroom-2:5000/, `server ${b.host}`)
      .replace('listen 80;', `listen 127.0.0.1:${port};`)
      .replace('worker_processes auto;', `worker_processes 1;\ndaemon off;\npid ${join(prefix, 'nginx.pid')};\nerror_log ${join(prefix, 'error.log')};`)
      .replace('http {', `http {\n  client_body_temp_path ${prefix};\n  proxy_temp_path ${prefix};`);
    writeFileSync(join(prefix, 'nginx.conf'), conf);
    const child = spawn(nginx, ['-p', prefix, '-c', join(prefix, 'nginx.conf')], { stdio: 'ignore' });
    t.teardown(() => child.kill('SIGQUIT'));
    const lb = `127.0.0.1:${port}`;
    for (let i = 0; i < 50 && (await httpGet(`http://${lb}/healthz`).catch(() => ({ status: 0 }))).status !== 200; i++) await new Promise((r) => setTimeout(r, 100));
    const h = helmFor(t, 4);
    if (!h) return;
    const login = spawnSync(h.bin, ['registry', 'login', lb, '--username', 'alice', '--password-stdin', '--plain-http'], { env: h.env, input: passwordOf('alice') });
    t.equal(login.status, 0, `helm logs in through the load balancer: ${login.stderr}`);
    const chart = await makeChart(h, tempDataDir(t), { name: 'balanced', version: '2.0.0', description: 'through nginx' });
    await helm(h, ['push', chart.file, `oci://${lb}/team`, '--plain-http']);
    for (let i = 0; i < 4; i++) {
      const pulled = await pullOne(t, h, `oci://${lb}/team/balanced`, ['--version', '2.0.0']);
      t.ok(pulled.bytes.equals(chart.bytes), `pull ${i + 1} through nginx (round robin over the replicas)`);
    }
    const big = randomBytes(11 * mib);
    const auth = { authorization: await bearer(a, 'repository:team/lb:pull,push') };
    const start = await httpRequest(`http://${lb}/v2/team/lb/blobs/uploads/`, 'POST', { ...auth, 'content-length': '0' });
    let location = start.headers.location as string;
    for (const [from, to] of [[0, 6 * mib], [6 * mib, big.length]] as const) {
      const res = await httpRequest(on(`http://${lb}`, location), 'PATCH', { ...auth, 'content-range': `${from}-${to - 1}`, 'content-type': 'application/octet-stream' }, big.subarray(from, to));
      t.equal(res.status, 202, 'a chunk through nginx');
      location = res.headers.location as string;
    }
    const done = await httpRequest(on(`http://${lb}`, location, sha256(big)), 'PUT', auth, Buffer.alloc(0));
    t.equal(done.status, 201, 'committed through nginx');
    t.equal(sha256((await httpGet(`http://${lb}/v2/team/lb/blobs/${sha256(big)}`, auth)).body), sha256(big), 'and read back through nginx');
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
