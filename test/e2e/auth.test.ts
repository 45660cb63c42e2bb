// End-to-end: access control (auth.enabled, the example rules of test/helpers/auth.ts) driven by
// the stock clients exactly as users run them:
//
//  Helm 3 and Helm 4, each:
//  1. `helm registry login HOST -u alice --password-stdin` (Bearer challenge → token service),
//     push to oci://HOST/team, pull, show chart, `helm registry logout` (and then pulls of team/
//     are refused again);
//  2. paul (pull only on team/**): login, pull works, push is refused with "denied"/403 and stores nothing;
//  3. anonymous (no login, fresh Helm environment): pull from oci://HOST/public works, from
//     oci://HOST/team is refused (401/unauthorized);
//  4. olga (ops) pushes and pulls secret/…, paul cannot pull it;
//  5. classic repository with Basic credentials: `helm repo add --username/--password`, repo update,
//     search repo, pull; without (or with wrong) credentials `helm repo add` fails with 401.
//  skopeo: copy with --dest-creds (alice works, paul refused), inspect and list-tags with --creds,
//  anonymous refused; robot tokens made with `chartroom token create` on the running server's
//  data directory work as --creds <name>:<secret>, within their scope only.
//  curl: ChartMuseum upload to /api/chartrepo/team/charts: ci-bot 201, anonymous 401 with
//  `WWW-Authenticate: Basic realm="chartroom"`, paul 403; only the allowed upload is stored.
//
// Every subtest starts its own server on 127.0.0.1:0 with `exampleAuth` and runs each client in
// an isolated environment (its own HOME, registry config and auth file). A missing Helm, skopeo or
// curl is a failure, never a skip. Each failed client command is reported with its output and the
// HTTP exchange the server saw (method, URL, credentials scheme and user, status, challenge).

import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import t, { type Test } from 'tap';
import { basic, exampleAuth, passwordOf } from '../helpers/auth.js';
import { chartTgz, tar } from '../helpers/charts.js';
import { runClient, type ClientResult } from '../helpers/clients.js';
import {
  describeRun,
  helm,
  helmFor,
  helmTry,
  makeChart as packageChart,
  pullTry,
  rowOf,
  searchJson,
  tableRow,
  type Chart,
  type Helm,
  type HelmMajor,
} from '../helpers/helm.js';
import { headerOf, httpGet } from '../helpers/http.js';
import { mediaTypes, sha256, type Descriptor } from '../helpers/oci.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { skopeoFor, type Skopeo } from '../helpers/skopeo.js';
import { tempDir } from '../helpers/tmp.js';
import { onPath } from '../helpers/which.js';
import { metadataEnv } from '../helpers/backends.js';

const SUBTEST_TIMEOUT = 300_000;
const CLIENT_TIMEOUT = 120_000;

// --- what the server saw ----------------------------------------------------------------------

interface SeenRequest {
  method: string;
  url: string;
  /** `Basic <user>`, `Bearer`, or '' when the request carried no Authorization header. */
  auth: string;
  status: number;
  challenge: string | undefined;
}

/** Every request the server answers, with its credentials (scheme and user only), status and challenge. */
function recordRequests(server: TestServer): SeenRequest[] {
  const seen: SeenRequest[] = [];
  server.app.server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const header = req.headers.authorization ?? '';
    let auth = header.split(/\s+/, 1)[0] ?? '';
    if (/^basic$/i.test(auth)) {
      const decoded = Buffer.from(header.slice(auth.length).trim(), 'base64').toString('utf8');
      auth = `Basic ${decoded.slice(0, Math.max(decoded.indexOf(':'), 0)) || '(empty user)'}`;
    }
    const entry: SeenRequest = { method: req.method ?? '', url: req.url ?? '', auth, status: 0, challenge: undefined };
    seen.push(entry);
    // Fastify passes its headers to writeHead directly (res.getHeader never sees them): read them there.
    const writeHead = res.writeHead.bind(res) as (...args: unknown[]) => ServerResponse;
    res.writeHead = ((...args: unknown[]) => {
      for (const arg of args.slice(1)) {
        if (typeof arg !== 'object' || arg === null || Array.isArray(arg)) continue;
        for (const [name, value] of Object.entries(arg as Record<string, unknown>)) {
          if (name.toLowerCase() === 'www-authenticate') entry.challenge = String(value);
        }
      }
      return writeHead(...args);
    }) as typeof res.writeHead;
    res.on('finish', () => {
      entry.status = res.statusCode;
      const challenge = res.getHeader('www-authenticate');
      if (challenge !== undefined) entry.challenge = String(challenge);
    });
  });
  return seen;
}

/** The requests since `from`, one line each, for diagnostics and the report. */
function exchange(seen: SeenRequest[], from = 0): string[] {
  return seen
    .slice(from)
    .map((r) => `${r.method} ${r.url}${r.auth ? ` [${r.auth}]` : ''} -> ${r.status}${r.challenge ? ` (WWW-Authenticate: ${r.challenge})` : ''}`);
}

/** A test server with the example auth rules, recording its traffic. */
async function authServer(t: Test): Promise<{ server: TestServer; seen: SeenRequest[] }> {
  const server = await startServer(t, exampleAuth);
  return { server, seen: recordRequests(server) };
}

// --- helm -------------------------------------------------------------------------------------

let serial = 0;

/** A chart whose description (and so its .tgz) is unique to this test run. */
function makeChart(h: Helm, workDir: string, name: string, version: string): Promise<Chart> {
  serial += 1;
  return packageChart(h, workDir, {
    name,
    version,
    appVersion: `5.${serial}.${h.major}`,
    description: `Chartroom auth e2e ${name} ${version} (Helm ${h.major}, ${serial})`,
  });
}

/** One helm command's outcome with what the server saw while it ran, for assertions' diagnostics. */
interface Run {
  result: ClientResult;
  /** Command, exit code, output and the HTTP exchange. */
  diag: string;
  out: string;
}

async function runHelm(h: Helm, seen: SeenRequest[], args: string[], input?: string): Promise<Run> {
  const from = seen.length;
  const result = await runClient(h.bin, args, { env: h.env, timeoutMs: h.timeoutMs, ...(input === undefined ? {} : { input }) });
  return {
    result,
    out: `${result.stdout}\n${result.stderr}`,
    diag: `${describeRun(h, args, result)}\nHTTP exchange:\n${exchange(seen, from).join('\n')}`,
  };
}

/**
 * `helm registry login HOST -u <user> --password-stdin` as users type it against a plain-HTTP
 * registry: Helm 4 needs --plain-http, Helm 3 has no such flag and falls back to HTTP by itself.
 */
function login(h: Helm, server: TestServer, seen: SeenRequest[], user: string, password = passwordOf(user)): Promise<Run> {
  const args = ['registry', 'login', server.host, '-u', user, '--password-stdin'];
  return runHelm(h, seen, h.major === 4 ? [...args, '--plain-http'] : args, `${password}\n`);
}

/** Login that must succeed. */
async function loggedIn(t: Test, h: Helm, server: TestServer, seen: SeenRequest[], user: string): Promise<boolean> {
  const run = await login(h, server, seen, user);
  t.equal(run.result.code, 0, `helm ${h.major} registry login ${server.host} -u ${user} --password-stdin`, { diag: run.diag });
  t.match(run.out, /Login Succeeded/, `login as ${user}: "Login Succeeded"`, { diag: run.diag });
  return run.result.code === 0;
}

/** The hosts in the Helm registry config (HELM_REGISTRY_CONFIG) that have credentials. */
function registryConfigHosts(h: Helm): string[] {
  const file = h.env['HELM_REGISTRY_CONFIG'] ?? '';
  if (!existsSync(file)) return [];
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as { auths?: Record<string, unknown> };
  return Object.keys(parsed.auths ?? {});
}

function pushRun(h: Helm, server: TestServer, seen: SeenRequest[], chart: Chart, namespace: string): Promise<Run> {
  return runHelm(h, seen, ['push', chart.file, `oci://${server.host}/${namespace}`, '--plain-http']);
}

/** helm push that must succeed and print the chart's reference. */
async function pushed(t: Test, h: Helm, server: TestServer, seen: SeenRequest[], chart: Chart, namespace: string, who: string): Promise<boolean> {
  const run = await pushRun(h, server, seen, chart, namespace);
  t.equal(run.result.code, 0, `${who}: helm ${h.major} push ${chart.name}-${chart.version}.tgz oci://HOST/${namespace}`, { diag: run.diag });
  t.match(run.out, new RegExp(`Pushed: ${server.host}/${namespace}/${chart.name}:${chart.version}`), `${who}: helm prints "Pushed: …"`, {
    diag: run.diag,
  });
  return run.result.code === 0;
}

interface PullOutcome {
  run: Run;
  /** sha256 of the pulled .tgz, if the pull left one. */
  digest: string | undefined;
}

/** `helm pull oci://HOST/<repo> --version <v> --plain-http` into a fresh directory. */
async function pullOci(t: Test, h: Helm, server: TestServer, seen: SeenRequest[], repo: string, version: string): Promise<PullOutcome> {
  const from = seen.length;
  const pulled = await pullTry(t, h, [`oci://${server.host}/${repo}`, '--version', version, '--plain-http']);
  const name = repo.split('/').pop() ?? repo;
  const bytes = pulled.files.get(`${name}-${version}.tgz`);
  return {
    run: {
      result: pulled.result,
      out: `${pulled.result.stdout}\n${pulled.result.stderr}`,
      diag: `${describeRun(h, pulled.command, pulled.result)}\nfiles: ${JSON.stringify([...pulled.files.keys()])}\nHTTP exchange:\n${exchange(seen, from).join('\n')}`,
    },
    digest: bytes === undefined ? undefined : sha256(bytes),
  };
}

/** A pull that must give back the chart byte for byte. */
async function pullsChart(t: Test, h: Helm, server: TestServer, seen: SeenRequest[], repo: string, chart: Chart, who: string): Promise<void> {
  const { run, digest } = await pullOci(t, h, server, seen, repo, chart.version);
  t.equal(run.result.code, 0, `${who}: helm ${h.major} pull oci://HOST/${repo} --version ${chart.version}`, { diag: run.diag });
  t.equal(digest, chart.digest, `${who}: the pulled .tgz is byte-identical to the pushed one`, { diag: run.diag });
}

/** A pull that must fail with output matching `why`, leaving no chart behind. */
async function pullRefused(t: Test, h: Helm, server: TestServer, seen: SeenRequest[], repo: string, version: string, why: RegExp, who: string): Promise<void> {
  const { run, digest } = await pullOci(t, h, server, seen, repo, version);
  t.not(run.result.code, 0, `${who}: helm ${h.major} pull oci://HOST/${repo} --version ${version} fails`, { diag: run.diag });
  t.match(run.out, why, `${who}: the pull error says ${String(why)}`, { diag: run.diag });
  t.equal(digest, undefined, `${who}: no chart was written`, { diag: run.diag });
}

const deniedMessage = /denied|403|forbidden/i;
const unauthorizedMessage = /401|unauthorized/i;

function helmSuite(major: HelmMajor): void {
  t.test(`Helm ${major}`, { timeout: 6 * SUBTEST_TIMEOUT }, async (t) => {
    // One clear failure here when the binary is missing, instead of one per subtest.
    if (!helmFor(t, major)) return;

    t.test('alice: registry login, push to team/, pull, show chart, registry logout', { timeout: SUBTEST_TIMEOUT }, async (t) => {
      const h = helmFor(t, major);
      if (!h) return;
      const chart = await makeChart(h, tempDir(t, `alice${major}`), 'app', '1.0.0');
      const { server, seen } = await authServer(t);

      // Without a login the push is refused (the server really enforces auth).
      const anonymousPush = await pushRun(h, server, seen, chart, 'team');
      t.not(anonymousPush.result.code, 0, 'before login: helm push to team/ fails', { diag: anonymousPush.diag });
      t.match(anonymousPush.out, unauthorizedMessage, 'before login: the push error says 401/unauthorized', { diag: anonymousPush.diag });

      const loginFrom = seen.length;
      if (!(await loggedIn(t, h, server, seen, 'alice'))) return;
      const loginTraffic = seen.slice(loginFrom);
      t.ok(
        loginTraffic.some((r) => r.url.startsWith('/v2/') && r.status === 401 && /^Bearer realm="http:\/\/127\.0\.0\.1:\d+\/auth\/token",service="chartroom"/.test(r.challenge ?? '')),
        'login: GET /v2/ is answered 401 with the Bearer challenge',
        { exchange: exchange(seen, loginFrom) },
      );
      t.ok(
        loginTraffic.some((r) => r.url.startsWith('/auth/token') && r.status === 200),
        'login: the token service issued a token',
        { exchange: exchange(seen, loginFrom) },
      );
      t.ok(registryConfigHosts(h).some((host) => host.includes(server.host)), 'login stored credentials for HOST in the registry config', {
        hosts: registryConfigHosts(h),
      });

      // A wrong password is refused.
      const other = helmFor(t, major);
      if (other) {
        const wrong = await login(other, server, seen, 'alice', 'not-the-password');
        t.not(wrong.result.code, 0, 'registry login with a wrong password fails', { diag: wrong.diag });
        t.match(wrong.out, unauthorizedMessage, 'wrong password: the error says 401/unauthorized', { diag: wrong.diag });
      }

      if (!(await pushed(t, h, server, seen, chart, 'team', 'alice'))) return;
      await pullsChart(t, h, server, seen, 'team/app', chart, 'alice');

      const show = await runHelm(h, seen, ['show', 'chart', `oci://${server.host}/team/app`, '--version', chart.version, '--plain-http']);
      t.equal(show.result.code, 0, `alice: helm ${major} show chart oci://HOST/team/app --version 1.0.0`, { diag: show.diag });
      t.match(show.result.stdout, /^name: app$/m, 'show chart: name: app', { diag: show.diag });
      t.match(show.result.stdout, /^version: 1\.0\.0$/m, 'show chart: version: 1.0.0', { diag: show.diag });
      t.match(show.result.stdout, new RegExp(`^description: ${chart.description.replace(/[()]/g, '\\$&')}$`, 'm'), 'show chart: the pushed description', {
        diag: show.diag,
      });

      const logout = await runHelm(h, seen, ['registry', 'logout', server.host]);
      t.equal(logout.result.code, 0, `helm ${major} registry logout ${server.host}`, { diag: logout.diag });
      t.match(logout.out, new RegExp(`Removing login credentials for ${server.host.replace(/\./g, '\\.')}`), 'logout: "Removing login credentials for HOST"', {
        diag: logout.diag,
      });
      t.notOk(registryConfigHosts(h).some((host) => host.includes(server.host)), 'logout removed HOST from the registry config', {
        hosts: registryConfigHosts(h),
      });
      await pullRefused(t, h, server, seen, 'team/app', chart.version, unauthorizedMessage, 'after logout');
    });

    t.test('paul (pull only): login, pull works, push is denied and stores nothing', { timeout: SUBTEST_TIMEOUT }, async (t) => {
      const alice = helmFor(t, major);
      const paul = helmFor(t, major);
      if (!alice || !paul) return;
      const work = tempDir(t, `paul${major}`);
      const v1 = await makeChart(alice, work, 'app', '1.0.0');
      const v2 = await makeChart(paul, work, 'app', '2.0.0');
      const fresh = await makeChart(paul, work, 'newapp', '0.1.0');
      const { server, seen } = await authServer(t);
      if (!(await loggedIn(t, alice, server, seen, 'alice'))) return;
      if (!(await pushed(t, alice, server, seen, v1, 'team', 'alice'))) return;

      if (!(await loggedIn(t, paul, server, seen, 'paul'))) return;
      await pullsChart(t, paul, server, seen, 'team/app', v1, 'paul');

      const denied = await pushRun(paul, server, seen, v2, 'team');
      t.not(denied.result.code, 0, 'paul: helm push of app 2.0.0 to team/ fails', { diag: denied.diag });
      t.match(denied.out, deniedMessage, 'paul: the push error says denied/403', { diag: denied.diag });
      const deniedNew = await pushRun(paul, server, seen, fresh, 'team');
      t.not(deniedNew.result.code, 0, 'paul: helm push of a new repository team/newapp fails', { diag: deniedNew.diag });
      t.match(deniedNew.out, deniedMessage, 'paul: the push error to a new repository says denied/403', { diag: deniedNew.diag });

      // Nothing of the refused pushes was stored: alice (who may see everything in team/) finds neither.
      await pullRefused(t, alice, server, seen, 'team/app', '2.0.0', /not found|404|manifest unknown/i, 'alice after paul’s refused push');
      await pullRefused(t, alice, server, seen, 'team/newapp', '0.1.0', /not found|404|unknown/i, 'alice after paul’s refused push to a new repository');
    });

    t.test('anonymous: pull from public/ works, pull from team/ is refused', { timeout: SUBTEST_TIMEOUT }, async (t) => {
      const alice = helmFor(t, major);
      const nobody = helmFor(t, major);
      if (!alice || !nobody) return;
      const work = tempDir(t, `anon${major}`);
      const open = await makeChart(alice, work, 'lib', '1.2.0');
      const closed = await makeChart(alice, work, 'app', '1.0.0');
      const { server, seen } = await authServer(t);
      if (!(await loggedIn(t, alice, server, seen, 'alice'))) return;
      if (!(await pushed(t, alice, server, seen, open, 'public', 'alice'))) return;
      if (!(await pushed(t, alice, server, seen, closed, 'team', 'alice'))) return;

      t.same(registryConfigHosts(nobody), [], 'the anonymous Helm environment has no credentials');
      await pullsChart(t, nobody, server, seen, 'public/lib', open, 'anonymous');
      const show = await runHelm(nobody, seen, ['show', 'chart', `oci://${server.host}/public/lib`, '--version', open.version, '--plain-http']);
      t.equal(show.result.code, 0, 'anonymous: helm show chart oci://HOST/public/lib', { diag: show.diag });
      t.match(show.result.stdout, /^name: lib$/m, 'anonymous: show chart prints the chart', { diag: show.diag });

      await pullRefused(t, nobody, server, seen, 'team/app', closed.version, unauthorizedMessage, 'anonymous');
      const push = await pushRun(nobody, server, seen, closed, 'public');
      t.not(push.result.code, 0, 'anonymous: helm push to public/ fails (anonymous may only pull there)', { diag: push.diag });
      t.match(push.out, unauthorizedMessage, 'anonymous: the push error says 401/unauthorized', { diag: push.diag });
    });

    t.test('secret/: olga (ops) pushes and pulls, paul cannot pull', { timeout: SUBTEST_TIMEOUT }, async (t) => {
      const olga = helmFor(t, major);
      const paul = helmFor(t, major);
      const alice = helmFor(t, major);
      if (!olga || !paul || !alice) return;
      const chart = await makeChart(olga, tempDir(t, `secret${major}`), 'db', '3.0.0');
      const { server, seen } = await authServer(t);
      if (!(await loggedIn(t, olga, server, seen, 'olga'))) return;
      if (!(await pushed(t, olga, server, seen, chart, 'secret', 'olga'))) return;
      await pullsChart(t, olga, server, seen, 'secret/db', chart, 'olga');

      if (!(await loggedIn(t, paul, server, seen, 'paul'))) return;
      await pullRefused(t, paul, server, seen, 'secret/db', chart.version, deniedMessage, 'paul');
      if (!(await loggedIn(t, alice, server, seen, 'alice'))) return;
      await pullRefused(t, alice, server, seen, 'secret/db', chart.version, deniedMessage, 'alice (devs, not ops)');
    });

    t.test('classic repository with Basic credentials: repo add, update, search, pull; none → 401', { timeout: SUBTEST_TIMEOUT }, async (t) => {
      const alice = helmFor(t, major);
      const paul = helmFor(t, major);
      const nobody = helmFor(t, major);
      if (!alice || !paul || !nobody) return;
      const chart = await makeChart(alice, tempDir(t, `classic${major}`), 'app', '1.3.0');
      const { server, seen } = await authServer(t);
      if (!(await loggedIn(t, alice, server, seen, 'alice'))) return;
      if (!(await pushed(t, alice, server, seen, chart, 'team', 'alice'))) return;
      const repoUrl = `${server.url}/chartrepo/team`;

      const add = await runHelm(paul, seen, ['repo', 'add', 'team', repoUrl, '--username', 'paul', '--password', passwordOf('paul')]);
      t.equal(add.result.code, 0, `paul: helm ${major} repo add team ${repoUrl} --username paul --password …`, { diag: add.diag });
      t.match(add.result.stdout, /"team" has been added/, 'repo add: "team" has been added', { diag: add.diag });
      const update = await runHelm(paul, seen, ['repo', 'update']);
      t.equal(update.result.code, 0, 'paul: helm repo update', { diag: update.diag });
      t.match(update.result.stdout, /Successfully got an update from the "team" chart repository/, 'repo update fetched the team index', {
        diag: update.diag,
      });
      try {
        const table = await helm(paul, ['search', 'repo', 'team/']);
        t.match(table.stdout, tableRow(chart, 'team'), 'paul: helm search repo team/ lists team/app 1.3.0', { output: table.stdout });
        t.same(await searchJson(paul, ['team/']), [rowOf(chart, 'team')], 'paul: search repo team/ -o json: exactly the pushed chart');
      } catch (err) {
        t.fail(`paul: helm search repo team/: ${(err as Error).message}`);
      }
      const from = seen.length;
      const pulled = await pullTry(t, paul, ['team/app']);
      const bytes = pulled.files.get('app-1.3.0.tgz');
      const pullDiag = `${describeRun(paul, pulled.command, pulled.result)}\nHTTP exchange:\n${exchange(seen, from).join('\n')}`;
      t.equal(pulled.result.code, 0, 'paul: helm pull team/app', { diag: pullDiag });
      t.equal(bytes === undefined ? undefined : sha256(bytes), chart.digest, 'paul: helm pull team/app gives the pushed .tgz byte for byte', {
        diag: pullDiag,
      });
      t.ok(
        seen.slice(from).some((r) => r.url === '/chartrepo/team/charts/app-1.3.0.tgz' && r.auth === 'Basic paul' && r.status === 200),
        'the chart download carried paul’s Basic credentials',
        { exchange: exchange(seen, from) },
      );

      const anonymousAdd = await runHelm(nobody, seen, ['repo', 'add', 'team', repoUrl]);
      t.not(anonymousAdd.result.code, 0, `no credentials: helm ${major} repo add team ${repoUrl} fails`, { diag: anonymousAdd.diag });
      t.match(anonymousAdd.out, /401/, 'no credentials: the error says 401', { diag: anonymousAdd.diag });
      const wrongAdd = await runHelm(nobody, seen, ['repo', 'add', 'team', repoUrl, '--username', 'paul', '--password', 'wrong-password']);
      t.not(wrongAdd.result.code, 0, 'wrong password: helm repo add fails', { diag: wrongAdd.diag });
      t.match(wrongAdd.out, /401/, 'wrong password: the error says 401', { diag: wrongAdd.diag });
      const list = await runHelm(nobody, seen, ['repo', 'list', '--output', 'json']);
      t.notMatch(list.result.stdout, /"team"/, 'the failed repo adds left no "team" repository behind', { diag: list.diag });
    });
  });
}

helmSuite(3);
helmSuite(4);

// --- skopeo -----------------------------------------------------------------------------------

async function runSkopeo(s: Skopeo, seen: SeenRequest[], args: string[]): Promise<Run> {
  const full = ['--insecure-policy', '--tmpdir', s.tmp, ...args];
  const from = seen.length;
  const result = await runClient(s.bin, full, { env: s.env, timeoutMs: CLIENT_TIMEOUT });
  return {
    result,
    out: `${result.stdout}\n${result.stderr}`,
    diag: `\`skopeo ${full.join(' ')}\` exited ${result.code}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}\nHTTP exchange:\n${exchange(seen, from).join('\n')}`,
  };
}

interface Layout {
  dir: string;
  manifestDigest: string;
  layers: Descriptor[];
}

function writeBlob(dir: string, bytes: Buffer): string {
  const digest = sha256(bytes);
  writeFileSync(join(dir, 'blobs', 'sha256', digest.slice('sha256:'.length)), bytes);
  return digest;
}

/** A one-image OCI layout tagged `v1` (config + one random gzip layer), as skopeo.test.ts builds it. */
function buildLayout(dir: string): Layout {
  mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
  writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const content = tar([
    { path: 'hello.txt', content: Buffer.from('hello from the auth e2e image\n') },
    { path: 'random.bin', content: randomBytes(16 * 1024) },
  ]);
  const blob = gzipSync(content);
  const layers: Descriptor[] = [{ mediaType: mediaTypes.ociLayer, digest: writeBlob(dir, blob), size: blob.length }];
  const configBytes = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: { Labels: { 'org.example.nonce': randomBytes(8).toString('hex') } },
      rootfs: { type: 'layers', diff_ids: [sha256(content)] },
    }),
  );
  const config: Descriptor = { mediaType: mediaTypes.ociConfig, digest: writeBlob(dir, configBytes), size: configBytes.length };
  const manifestBytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: mediaTypes.ociManifest, config, layers }));
  const manifestDigest = writeBlob(dir, manifestBytes);
  const index = {
    schemaVersion: 2,
    manifests: [{ mediaType: mediaTypes.ociManifest, digest: manifestDigest, size: manifestBytes.length, annotations: { 'org.opencontainers.image.ref.name': 'v1' } }],
  };
  writeFileSync(join(dir, 'index.json'), JSON.stringify(index));
  return { dir, manifestDigest, layers };
}

const cliBin = fileURLToPath(new URL('../../bin/chartroom.js', import.meta.url));

/** `chartroom token create <name> --scope <scope> --data <dir>`: the secret it prints, or a failed assertion. */
function robotToken(t: Test, dataDir: string, name: string, scope: string): string | undefined {
  const args = [cliBin, 'token', 'create', name, '--scope', scope, '--data', dataDir];
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...metadataEnv(dataDir) } });
  const secret = r.stdout.trim();
  t.equal(r.status, 0, `chartroom token create ${name} --scope '${scope}' on the running server's data directory`, { stderr: r.stderr });
  t.match(secret, /^crt_[A-Za-z0-9_-]{20,}$/, `token create ${name} printed a crt_ secret`, { stdout: r.stdout, stderr: r.stderr });
  return r.status === 0 ? secret : undefined;
}

function creds(user: string, password = passwordOf(user)): string {
  return `${user}:${password}`;
}

t.test('skopeo: --dest-creds / --creds with users and robot tokens', { timeout: SUBTEST_TIMEOUT }, async (t) => {
  const s = skopeoFor(t);
  if (!s) return;
  const { server, seen } = await authServer(t);
  const layout = buildLayout(join(tempDir(t, 'layout'), 'layout'));
  const src = `oci:${layout.dir}:v1`;
  const dest = (ref: string): string => `docker://${server.host}/${ref}`;

  const copy = await runSkopeo(s, seen, ['copy', '--dest-creds', creds('alice'), '--dest-tls-verify=false', src, dest('team/img:v1')]);
  t.equal(copy.result.code, 0, 'alice: skopeo copy --dest-creds alice:… oci:<layout> docker://HOST/team/img:v1', { diag: copy.diag });
  t.ok(
    seen.some((r) => r.method === 'PUT' && r.url === '/v2/team/img/manifests/v1' && r.auth === 'Bearer' && r.status === 201),
    'the manifest went up with a Bearer token (201)',
    { exchange: exchange(seen) },
  );

  const inspect = await runSkopeo(s, seen, ['inspect', '--creds', creds('paul'), '--tls-verify=false', dest('team/img:v1')]);
  t.equal(inspect.result.code, 0, 'paul: skopeo inspect --creds paul:… docker://HOST/team/img:v1', { diag: inspect.diag });
  let inspected: { Digest?: unknown; Layers?: unknown } | undefined;
  try {
    inspected = JSON.parse(inspect.result.stdout) as typeof inspected;
  } catch {
    inspected = undefined;
  }
  t.equal(inspected?.Digest, layout.manifestDigest, 'paul: inspect reports the pushed manifest digest', { diag: inspect.diag });
  t.same(inspected?.Layers, layout.layers.map((l) => l.digest), 'paul: inspect reports the pushed layer', { diag: inspect.diag });

  const refused = await runSkopeo(s, seen, ['copy', '--dest-creds', creds('paul'), '--dest-tls-verify=false', src, dest('team/img:v2')]);
  t.not(refused.result.code, 0, 'paul: skopeo copy --dest-creds paul:… to team/img:v2 fails', { diag: refused.diag });
  t.match(refused.out, deniedMessage, 'paul: the copy error says denied/403', { diag: refused.diag });

  const anonymous = await runSkopeo(s, seen, ['inspect', '--tls-verify=false', dest('team/img:v1')]);
  t.not(anonymous.result.code, 0, 'no credentials: skopeo inspect docker://HOST/team/img:v1 fails', { diag: anonymous.diag });
  t.match(anonymous.out, unauthorizedMessage, 'no credentials: the inspect error says 401/unauthorized', { diag: anonymous.diag });
  const wrong = await runSkopeo(s, seen, ['inspect', '--creds', creds('paul', 'wrong-password'), '--tls-verify=false', dest('team/img:v1')]);
  t.not(wrong.result.code, 0, 'wrong password: skopeo inspect fails', { diag: wrong.diag });
  t.match(wrong.out, unauthorizedMessage, 'wrong password: the inspect error says 401/unauthorized', { diag: wrong.diag });

  const tags = await runSkopeo(s, seen, ['list-tags', '--creds', creds('paul'), '--tls-verify=false', dest('team/img')]);
  t.equal(tags.result.code, 0, 'paul: skopeo list-tags --creds paul:… docker://HOST/team/img', { diag: tags.diag });
  let listed: { Tags?: unknown } | undefined;
  try {
    listed = JSON.parse(tags.result.stdout) as typeof listed;
  } catch {
    listed = undefined;
  }
  t.same(listed?.Tags, ['v1'], 'list-tags: only v1 (paul’s refused copy left no v2)', { diag: tags.diag });

  // Robot tokens, created while the server runs, on its data directory.
  const ci = robotToken(t, server.dataDir, 'ci', 'team/**:pull,push');
  const reader = robotToken(t, server.dataDir, 'reader', 'team/**:pull');
  if (ci === undefined || reader === undefined) return;

  const robotCopy = await runSkopeo(s, seen, ['copy', '--dest-creds', `ci:${ci}`, '--dest-tls-verify=false', src, dest('team/robot:v1')]);
  t.equal(robotCopy.result.code, 0, 'robot ci (team/**:pull,push): skopeo copy --dest-creds ci:<secret> to team/robot:v1', { diag: robotCopy.diag });
  const robotInspect = await runSkopeo(s, seen, ['inspect', '--creds', `ci:${ci}`, '--tls-verify=false', dest('team/robot:v1')]);
  t.equal(robotInspect.result.code, 0, 'robot ci: skopeo inspect --creds ci:<secret> team/robot:v1', { diag: robotInspect.diag });
  t.match(robotInspect.result.stdout, layout.manifestDigest, 'robot ci: inspect reports the copied manifest digest', { diag: robotInspect.diag });
  const robotTags = await runSkopeo(s, seen, ['list-tags', '--creds', `ci:${ci}`, '--tls-verify=false', dest('team/img')]);
  t.equal(robotTags.result.code, 0, 'robot ci: skopeo list-tags --creds ci:<secret> team/img', { diag: robotTags.diag });
  t.match(robotTags.result.stdout, /"v1"/, 'robot ci: list-tags shows v1', { diag: robotTags.diag });

  const outOfScope = await runSkopeo(s, seen, ['copy', '--dest-creds', `ci:${ci}`, '--dest-tls-verify=false', src, dest('secret/robot:v1')]);
  t.not(outOfScope.result.code, 0, 'robot ci: copy to secret/robot:v1 (outside its scope) fails', { diag: outOfScope.diag });
  t.match(outOfScope.out, deniedMessage, 'robot ci: the out-of-scope copy error says denied/403', { diag: outOfScope.diag });
  const outOfScopeRead = await runSkopeo(s, seen, ['copy', '--dest-creds', `ci:${ci}`, '--dest-tls-verify=false', src, dest('public/robot:v1')]);
  t.not(outOfScopeRead.result.code, 0, 'robot ci: copy to public/robot:v1 (outside its scope) fails', { diag: outOfScopeRead.diag });

  const readerCopy = await runSkopeo(s, seen, ['copy', '--dest-creds', `reader:${reader}`, '--dest-tls-verify=false', src, dest('team/reader:v1')]);
  t.not(readerCopy.result.code, 0, 'robot reader (team/**:pull): copy to team/reader:v1 fails', { diag: readerCopy.diag });
  t.match(readerCopy.out, deniedMessage, 'robot reader: the copy error says denied/403', { diag: readerCopy.diag });
  const readerInspect = await runSkopeo(s, seen, ['inspect', '--creds', `reader:${reader}`, '--tls-verify=false', dest('team/robot:v1')]);
  t.equal(readerInspect.result.code, 0, 'robot reader: skopeo inspect --creds reader:<secret> team/robot:v1', { diag: readerInspect.diag });

  const wrongSecret = await runSkopeo(s, seen, ['inspect', '--creds', 'ci:crt_not-the-secret-at-all-000000', '--tls-verify=false', dest('team/img:v1')]);
  t.not(wrongSecret.result.code, 0, 'robot ci with a wrong secret: inspect fails', { diag: wrongSecret.diag });
  t.match(wrongSecret.out, unauthorizedMessage, 'robot ci with a wrong secret: 401/unauthorized', { diag: wrongSecret.diag });

  // What is stored, seen by the admin: team/robot:v1 yes; team/img:v2, team/reader, secret/robot, public/robot no.
  const rootTags = async (repo: string): Promise<Run> => runSkopeo(s, seen, ['list-tags', '--creds', creds('root'), '--tls-verify=false', dest(repo)]);
  const robotRepo = await rootTags('team/robot');
  t.match(robotRepo.result.stdout, /"v1"/, 'root: team/robot has v1', { diag: robotRepo.diag });
  for (const repo of ['team/reader', 'secret/robot', 'public/robot']) {
    const r = await rootTags(repo);
    t.notMatch(r.result.stdout, /"v1"/, `root: ${repo} has no v1 (the refused copies stored nothing)`, { diag: r.diag });
  }
});

// --- curl: ChartMuseum uploads ------------------------------------------------------------------

interface CurlReply {
  status: number;
  headers: string;
  body: string;
  exchange: string;
}

t.test('curl: ChartMuseum upload to /api/chartrepo/team/charts with Basic credentials', { timeout: SUBTEST_TIMEOUT }, async (t) => {
  const bin = process.env['CURL'] || onPath('curl');
  if (bin === undefined) {
    t.fail('curl not found: install the Debian package curl (apt-get install -y curl) or set CURL');
    return;
  }
  const dir = tempDir(t, 'curl');
  const { server, seen } = await authServer(t);
  let n = 0;
  const curl = async (args: string[]): Promise<CurlReply> => {
    n += 1;
    const headersFile = join(dir, `headers-${n}`);
    const bodyFile = join(dir, `body-${n}`);
    const full = ['--silent', '--show-error', '--max-time', '60', '--dump-header', headersFile, '--output', bodyFile, '--write-out', '%{http_code}', ...args];
    const from = seen.length;
    const result = await runClient(bin, full, { timeoutMs: CLIENT_TIMEOUT });
    if (result.code !== 0) throw new Error(`\`curl ${full.join(' ')}\` exited ${result.code}\nstderr:\n${result.stderr}`);
    const headers = existsSync(headersFile) ? readFileSync(headersFile, 'utf8') : '';
    const body = existsSync(bodyFile) ? readFileSync(bodyFile, 'utf8') : '';
    const shown = args.map((a, i) => (args[i - 1] === '-u' ? `${a.split(':')[0]}:…` : a));
    return {
      status: Number(result.stdout.trim()),
      headers,
      body,
      exchange: `curl ${shown.join(' ')}\n${headers}${body.slice(0, 800)}\nserver saw:\n${exchange(seen, from).join('\n')}`,
    };
  };
  const write = (name: string, version: string): string => {
    const file = join(dir, `${name}-${version}.tgz`);
    writeFileSync(file, chartTgz({ name, version }));
    return file;
  };
  const url = `${server.url}/api/chartrepo/team/charts`;

  const good = write('app', '1.0.0');
  const saved = await curl(['-u', creds('ci-bot'), '--data-binary', `@${good}`, url]);
  t.equal(saved.status, 201, 'curl -u ci-bot:… --data-binary @app-1.0.0.tgz → 201', { exchange: saved.exchange });
  let savedJson: unknown;
  try {
    savedJson = JSON.parse(saved.body);
  } catch {
    savedJson = undefined;
  }
  t.same(savedJson, { saved: true }, 'ci-bot upload: {"saved":true}', { exchange: saved.exchange });

  const anonymousFile = write('app', '1.1.0');
  const anonymous = await curl(['--data-binary', `@${anonymousFile}`, url]);
  t.equal(anonymous.status, 401, 'curl --data-binary @app-1.1.0.tgz without -u → 401', { exchange: anonymous.exchange });
  t.match(anonymous.headers, /^www-authenticate:\s*Basic realm="chartroom"\s*$/im, 'anonymous: WWW-Authenticate: Basic realm="chartroom"', {
    exchange: anonymous.exchange,
  });

  const paulFile = write('app', '1.2.0');
  const paul = await curl(['-u', creds('paul'), '--data-binary', `@${paulFile}`, url]);
  t.equal(paul.status, 403, 'curl -u paul:… --data-binary @app-1.2.0.tgz → 403', { exchange: paul.exchange });
  t.match(paul.body, /denied|push/i, 'paul: the error says why', { exchange: paul.exchange });

  const wrong = await curl(['-u', creds('ci-bot', 'wrong-password'), '--data-binary', `@${paulFile}`, url]);
  t.equal(wrong.status, 401, 'curl -u ci-bot:<wrong password> → 401', { exchange: wrong.exchange });

  // Only the allowed upload is stored.
  const versions = await httpGet(`${server.url}/api/chartrepo/team/charts/app`, { authorization: basic('paul') });
  let listed: unknown;
  try {
    listed = JSON.parse(versions.body.toString('utf8'));
  } catch {
    listed = undefined;
  }
  t.equal(versions.status, 200, 'GET /api/chartrepo/team/charts/app as paul', { body: versions.body.toString('utf8') });
  t.same(
    Array.isArray(listed) ? (listed as { version?: unknown }[]).map((v) => v.version) : listed,
    ['1.0.0'],
    'only ci-bot’s 1.0.0 is stored, not the refused 1.1.0 and 1.2.0',
  );
  const download = await httpGet(`${server.url}/chartrepo/team/charts/app-1.0.0.tgz`, { authorization: basic('paul') });
  t.equal(download.status, 200, 'paul downloads app-1.0.0.tgz from the classic repository');
  t.equal(sha256(download.body), sha256(readFileSync(good)), 'byte for byte what ci-bot uploaded');
  const anonymousDownload = await httpGet(`${server.url}/chartrepo/team/charts/app-1.0.0.tgz`);
  t.equal(anonymousDownload.status, 401, 'anonymous download from the team classic repository → 401');
  t.match(headerOf(anonymousDownload, 'www-authenticate') ?? '', /^Basic realm="chartroom"$/, 'with a Basic challenge');
});
