// End-to-end: charts pushed with stock Helm 3 and Helm 4 over oci:// are served as classic
// chart repositories at /chartrepo/<namespace> (and /chartrepo for top-level charts), and the
// same Helm binaries use them: repo add, repo update, search repo, pull, template, show readme,
// provenance verification (--verify) over both oci:// and the classic repository, and an
// index.yaml whose body is JSON.
//
// Every subtest starts its own server on 127.0.0.1:0 and runs helm in an isolated HELM_*
// environment (helmEnv). A missing Helm binary or a missing gpg is a failure, never a skip:
// run `node scripts/provision-clients.mjs` for Helm, `apt-get install -y gnupg` for gpg.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { clientCacheRoot, findHelm, helmEnv, runClient, type ClientResult } from '../helpers/clients.js';
import { findGpg, makeSigningKey, type GpgKey } from '../helpers/gpg.js';
import { startServer, type TestServer } from '../helpers/server.js';

const SUBTEST_TIMEOUT = 300_000;
const HELM_TIMEOUT = 120_000;

type HelmMajor = 3 | 4;

interface Helm {
  major: HelmMajor;
  bin: string;
  env: Record<string, string>;
}

interface Chart {
  name: string;
  version: string;
  appVersion: string;
  description: string;
  /** The packaged .tgz. */
  file: string;
  bytes: Buffer;
  /** sha256 of the .tgz, `sha256:<hex>`. */
  digest: string;
  /** `<file>.prov` when the chart was signed. */
  prov?: Buffer;
  /** replicaCount in values.yaml: unique per packaged chart. */
  replicas: number;
  /** image.repository in values.yaml: unique per packaged chart, rendered by the deployment template. */
  image: string;
  /** First line of README.md. */
  readmeTitle: string;
}

interface SearchRow {
  name: string;
  version: string;
  app_version: string;
  description: string;
}

function sha256(bytes: Buffer | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

function tempDir(t: Test, prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `chartroom-e2e-${prefix}-`));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The Helm binary of that major version in a fresh isolated environment, or a failed assertion. */
function helmFor(t: Test, major: HelmMajor): Helm | undefined {
  const bin = findHelm(major);
  if (bin === undefined) {
    t.fail(
      `Helm ${major} not found: run "node scripts/provision-clients.mjs" (it caches helm under ${clientCacheRoot()}), ` +
        `put a Helm ${major} binary on PATH, or set HELM${major}`,
    );
    return undefined;
  }
  return { major, bin, env: helmEnv(tempDir(t, `helm${major}-home`)) };
}

function describeRun(h: Helm, args: string[], result: ClientResult): string {
  return `helm ${h.major}: \`helm ${args.join(' ')}\` exited ${result.code}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`;
}

/** Runs helm and returns whatever it did, exit code included. */
function helmTry(h: Helm, args: string[], cwd?: string): Promise<ClientResult> {
  return runClient(h.bin, args, { env: h.env, cwd, timeoutMs: HELM_TIMEOUT });
}

/** Runs helm; a non-zero exit throws with the command and its output, which fails the test. */
async function helm(h: Helm, args: string[], cwd?: string): Promise<ClientResult> {
  const result = await helmTry(h, args, cwd);
  if (result.code !== 0) throw new Error(describeRun(h, args, result));
  return result;
}

/** Registry (oci://) commands talk plain HTTP to the test server; Helm 4 needs --plain-http on each. */
function oci(h: Helm, args: string[], cwd?: string): Promise<ClientResult> {
  return helm(h, [...args, '--plain-http'], cwd);
}

let serial = 0;

interface ChartSpec {
  name: string;
  version: string;
  /** Sign with this key (`helm package --sign`), leaving `<name>-<version>.tgz.prov` beside the .tgz. */
  signWith?: GpgKey;
}

/** `helm create` + edit Chart.yaml, values.yaml, README.md + `helm package`, into `<workDir>/packages`. */
async function makeChart(h: Helm, workDir: string, spec: ChartSpec): Promise<Chart> {
  const { name, version } = spec;
  serial += 1;
  const srcDir = join(workDir, 'src', `${name}-${version}`);
  mkdirSync(srcDir, { recursive: true });
  const chartDir = join(srcDir, name);
  await helm(h, ['create', chartDir]);

  const appVersion = `9.${serial}.${h.major}`;
  const description = `Chartroom classic repo e2e ${name} ${version}`;
  const chartYamlPath = join(chartDir, 'Chart.yaml');
  const chartYaml = readFileSync(chartYamlPath, 'utf8')
    .replace(/^name:.*$/m, `name: ${name}`)
    .replace(/^version:.*$/m, `version: ${version}`)
    .replace(/^appVersion:.*$/m, `appVersion: "${appVersion}"`)
    .replace(/^description:.*$/m, `description: ${description}`);
  writeFileSync(chartYamlPath, chartYaml);

  const replicas = 10 + serial;
  const image = `registry.chartroom.test/marker-${name}-${version.replace(/[^0-9a-z]/g, '-')}-h${h.major}`;
  const valuesPath = join(chartDir, 'values.yaml');
  const values = readFileSync(valuesPath, 'utf8')
    .replace(/^replicaCount:.*$/m, `replicaCount: ${replicas}`)
    .replace(/^(\s+)repository:.*$/m, `$1repository: ${image}`);
  if (!values.includes(image)) throw new Error(`helm ${h.major} create: no image.repository in values.yaml to edit:\n${values}`);
  writeFileSync(valuesPath, values);

  const readmeTitle = `# ${name} ${version}: the Chartroom classic repository e2e chart (Helm ${h.major})`;
  writeFileSync(join(chartDir, 'README.md'), `${readmeTitle}\n\nInstall with \`helm install ${name} team/${name}\`.\n`);

  const outDir = join(workDir, 'packages');
  mkdirSync(outDir, { recursive: true });
  const sign = spec.signWith ? ['--sign', '--key', spec.signWith.name, '--keyring', spec.signWith.secring] : [];
  await helm(h, ['package', chartDir, '--destination', outDir, ...sign]);
  const file = join(outDir, `${name}-${version}.tgz`);
  const bytes = readFileSync(file);
  const chart: Chart = { name, version, appVersion, description, file, bytes, digest: sha256(bytes), replicas, image, readmeTitle };
  if (spec.signWith) {
    if (!existsSync(`${file}.prov`)) throw new Error(`helm ${h.major} package --sign left no ${file}.prov`);
    chart.prov = readFileSync(`${file}.prov`);
  }
  return chart;
}

function push(h: Helm, server: TestServer, chart: Chart, namespace = 'team'): Promise<ClientResult> {
  const target = namespace === '' ? `oci://${server.host}` : `oci://${server.host}/${namespace}`;
  return oci(h, ['push', chart.file, target]);
}

/** `helm pull` into a fresh directory; returns the files it left there. */
async function pullInto(t: Test, h: Helm, args: string[], plainHttp: boolean): Promise<{ files: Map<string, Buffer>; result: ClientResult }> {
  const dest = tempDir(t, 'pull');
  const full = ['pull', ...args, '--destination', dest];
  const result = await (plainHttp ? oci(h, full) : helm(h, full));
  const files = new Map<string, Buffer>();
  for (const name of readdirSync(dest)) files.set(name, readFileSync(join(dest, name)));
  return { files, result };
}

async function searchJson(h: Helm, args: string[]): Promise<SearchRow[]> {
  const result = await helm(h, ['search', 'repo', ...args, '--output', 'json']);
  const parsed: unknown = JSON.parse(result.stdout);
  if (!Array.isArray(parsed)) throw new Error(`helm search repo ${args.join(' ')} -o json printed no array:\n${result.stdout}`);
  return parsed as SearchRow[];
}

function rowOf(chart: Chart, repo: string): SearchRow {
  return { name: `${repo}/${chart.name}`, version: chart.version, app_version: chart.appVersion, description: chart.description };
}

/** The table row `helm search repo` prints for a chart: NAME, CHART VERSION, APP VERSION, DESCRIPTION. */
function tableRow(chart: Chart, repo: string): RegExp {
  const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^${esc(`${repo}/${chart.name}`)}\\s+${esc(chart.version)}\\s+${esc(chart.appVersion)}\\s+${esc(chart.description)}\\s*$`, 'm');
}

interface HttpReply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** One GET on its own connection (`Connection: close`), so no kept-alive socket delays app.close(). */
function httpGet(url: string, headers: Record<string, string> = {}): Promise<HttpReply> {
  return new Promise<HttpReply>((resolve, reject) => {
    const req = httpRequest(url, { method: 'GET', agent: false, headers: { connection: 'close', ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

// --- signing keys: generated once for the whole file, shared by both Helm versions ---------------

interface Keys {
  signer: GpgKey;
  stranger: GpgKey;
}

let keysPromise: Promise<Keys> | undefined;

/** Two throwaway keys: `signer` signs the charts, `stranger` is the wrong key for the negative checks. */
function signingKeys(): Promise<Keys> {
  if (keysPromise) return keysPromise;
  const gpg = findGpg();
  if (gpg === undefined) {
    keysPromise = Promise.reject(new Error('gpg not found: install the Debian package gnupg (apt-get install -y gnupg) or set GPG'));
  } else {
    const root = mkdtempSync(join(tmpdir(), 'chartroom-e2e-gpg-'));
    t.teardown(() => rmSync(root, { recursive: true, force: true }));
    const dir = (sub: string): string => {
      const d = join(root, sub);
      mkdirSync(d, { recursive: true });
      return d;
    };
    keysPromise = (async () => ({
      signer: await makeSigningKey(gpg, dir('signer'), 'Chartroom E2E Signer', 'signer@chartroom.test'),
      stranger: await makeSigningKey(gpg, dir('stranger'), 'Chartroom E2E Stranger', 'stranger@chartroom.test'),
    }))();
  }
  // Handled here so an early rejection is not "unhandled" before a subtest awaits it.
  keysPromise.catch(() => undefined);
  return keysPromise;
}

// --- the suites -------------------------------------------------------------------------------

function helmSuite(major: HelmMajor): void {
  t.test(`Helm ${major}`, { timeout: 4 * SUBTEST_TIMEOUT }, async (t) => {
    // One clear failure here when the binary is missing, instead of one per subtest.
    if (!helmFor(t, major)) return;

    t.test('a namespace is a classic repository: repo add, search, pull, template, show readme', { timeout: SUBTEST_TIMEOUT }, async (t) => {
      const h = helmFor(t, major);
      if (!h) return;
      const work = tempDir(t, `charts${major}`);
      const v140 = await makeChart(h, work, { name: 'app', version: '1.4.0' });
      const v1100 = await makeChart(h, work, { name: 'app', version: '1.10.0' });
      const server = await startServer(t);
      const repoUrl = `${server.url}/chartrepo/team`;

      await push(h, server, v140);
      // Straight after the push: the index must already list it.
      const added = await helm(h, ['repo', 'add', 'team', repoUrl]);
      t.match(added.stdout, /"team" has been added/, `helm repo add team ${repoUrl}`);
      const updated = await helm(h, ['repo', 'update']);
      t.match(updated.stdout, /Successfully got an update from the "team" chart repository/, 'helm repo update fetches the team index');

      const table = await helm(h, ['search', 'repo', 'team/']);
      t.match(table.stdout, /^NAME\s+CHART VERSION\s+APP VERSION\s+DESCRIPTION\s*$/m, 'search repo prints the table header');
      t.match(table.stdout, tableRow(v140, 'team'), 'search repo team/: row team/app 1.4.0, its app version and description', { output: table.stdout });
      t.same(await searchJson(h, ['team/']), [rowOf(v140, 'team')], 'search repo team/ -o json: exactly the pushed chart');

      await push(h, server, v1100);
      await helm(h, ['repo', 'update', 'team']);
      const versions = await searchJson(h, ['team/app', '--versions']);
      t.same(versions, [rowOf(v1100, 'team'), rowOf(v140, 'team')], 'search repo team/app --versions: both versions, newest (semver) first');
      const versionsTable = await helm(h, ['search', 'repo', 'team/app', '--versions']);
      const rows = versionsTable.stdout.split('\n').filter((line) => line.startsWith('team/app'));
      t.equal(rows.length, 2, 'the --versions table has two rows', { output: versionsTable.stdout });
      t.match(rows[0] ?? '', tableRow(v1100, 'team'), 'first row: 1.10.0');
      t.match(rows[1] ?? '', tableRow(v140, 'team'), 'second row: 1.4.0');
      t.same(await searchJson(h, ['team/app']), [rowOf(v1100, 'team')], 'search repo without --versions: the newest version only');

      const pulled = await pullInto(t, h, ['team/app', '--version', '1.4.0'], false);
      t.same([...pulled.files.keys()], ['app-1.4.0.tgz'], 'helm pull team/app --version 1.4.0 writes app-1.4.0.tgz');
      const pulledBytes = pulled.files.get('app-1.4.0.tgz');
      t.equal(pulledBytes === undefined ? undefined : sha256(pulledBytes), v140.digest, 'the pulled .tgz is byte-identical to the pushed one');

      const latest = await pullInto(t, h, ['team/app'], false);
      t.same([...latest.files.keys()], ['app-1.10.0.tgz'], 'helm pull team/app without --version takes 1.10.0');

      const rendered = await helm(h, ['template', 'team/app']);
      t.match(rendered.stdout, /^kind: Deployment$/m, 'helm template team/app renders the deployment');
      t.match(rendered.stdout, new RegExp(`image: "${v1100.image}:${v1100.appVersion}"`), 'template: image.repository from values.yaml of 1.10.0');
      t.match(rendered.stdout, new RegExp(`^\\s+replicas: ${v1100.replicas}$`, 'm'), 'template: replicaCount from values.yaml of 1.10.0');
      const renderedOld = await helm(h, ['template', 'rel', 'team/app', '--version', '1.4.0']);
      t.match(renderedOld.stdout, new RegExp(`image: "${v140.image}:${v140.appVersion}"`), 'template --version 1.4.0: values.yaml of 1.4.0');
      t.match(renderedOld.stdout, /helm\.sh\/chart: app-1\.4\.0/, 'template --version 1.4.0: chart label of 1.4.0');

      const readme = await helm(h, ['show', 'readme', 'team/app']);
      t.equal(readme.stdout.split('\n')[0], v1100.readmeTitle, 'helm show readme team/app prints the README of the newest version');
      const readmeOld = await helm(h, ['show', 'readme', 'team/app', '--version', '1.4.0']);
      t.equal(readmeOld.stdout.split('\n')[0], v140.readmeTitle, 'helm show readme --version 1.4.0 prints the README of 1.4.0');
    });

    t.test('a top-level chart is in the repository at /chartrepo', { timeout: SUBTEST_TIMEOUT }, async (t) => {
      const h = helmFor(t, major);
      if (!h) return;
      const chart = await makeChart(h, tempDir(t, `top${major}`), { name: 'x', version: '0.3.0' });
      const server = await startServer(t);
      await push(h, server, chart, '');
      await helm(h, ['repo', 'add', 'top', `${server.url}/chartrepo`]);
      const table = await helm(h, ['search', 'repo', 'top/']);
      t.match(table.stdout, tableRow(chart, 'top'), 'search repo top/: row top/x 0.3.0', { output: table.stdout });
      t.same(await searchJson(h, ['top/']), [rowOf(chart, 'top')], 'search repo top/ -o json: exactly the top-level chart');
      const pulled = await pullInto(t, h, ['top/x', '--version', '0.3.0'], false);
      const bytes = pulled.files.get('x-0.3.0.tgz');
      t.equal(bytes === undefined ? undefined : sha256(bytes), chart.digest, 'helm pull top/x: byte-identical to the pushed .tgz');
    });

    t.test('provenance: a signed chart verifies over oci:// and over the classic repository', { timeout: SUBTEST_TIMEOUT }, async (t) => {
      const h = helmFor(t, major);
      if (!h) return;
      const { signer, stranger } = await signingKeys();
      const chart = await makeChart(h, tempDir(t, `signed${major}`), { name: 'app', version: '1.5.0', signWith: signer });
      const prov = chart.prov ?? Buffer.alloc(0);
      t.match(prov.toString('utf8'), /^-----BEGIN PGP SIGNED MESSAGE-----/, 'helm package --sign wrote app-1.5.0.tgz.prov');
      const server = await startServer(t);
      await push(h, server, chart);

      const fingerprint = new RegExp(`Using Key With Fingerprint: ${signer.fingerprint}`, 'i');
      const signedBy = new RegExp(`Signed by: ${signer.name} <${signer.email}>`);
      const hashLine = new RegExp(`Chart Hash Verified: ${chart.digest}`);

      const overOci = await pullInto(t, h, [`oci://${server.host}/team/app`, '--version', '1.5.0', '--verify', '--keyring', signer.pubring], true);
      const ociOut = `${overOci.result.stdout}\n${overOci.result.stderr}`;
      t.match(ociOut, signedBy, 'pull oci:// --verify: signed by the signer', { output: ociOut });
      t.match(ociOut, fingerprint, 'pull oci:// --verify: the signer key fingerprint');
      t.match(ociOut, hashLine, 'pull oci:// --verify: chart hash verified');
      const ociTgz = overOci.files.get('app-1.5.0.tgz');
      t.equal(ociTgz === undefined ? undefined : sha256(ociTgz), chart.digest, 'pull oci:// --verify: the .tgz byte for byte');
      const ociProv = overOci.files.get('app-1.5.0.tgz.prov');
      t.ok(ociProv?.equals(prov), 'pull oci:// --verify: the .prov byte for byte', { files: [...overOci.files.keys()] });

      await helm(h, ['repo', 'add', 'team', `${server.url}/chartrepo/team`]);
      await helm(h, ['repo', 'update']);
      const provDownload = await httpGet(`${server.url}/chartrepo/team/charts/app-1.5.0.tgz.prov`);
      t.equal(provDownload.status, 200, 'GET /chartrepo/team/charts/app-1.5.0.tgz.prov');
      t.ok(provDownload.body.equals(prov), 'the classic repository serves the pushed .prov byte for byte');

      const overRepo = await pullInto(t, h, ['team/app', '--version', '1.5.0', '--verify', '--keyring', signer.pubring], false);
      const repoOut = `${overRepo.result.stdout}\n${overRepo.result.stderr}`;
      t.match(repoOut, signedBy, 'pull team/app --verify: signed by the signer', { output: repoOut });
      t.match(repoOut, fingerprint, 'pull team/app --verify: the signer key fingerprint');
      t.match(repoOut, hashLine, 'pull team/app --verify: chart hash verified');
      const repoTgz = overRepo.files.get('app-1.5.0.tgz');
      t.equal(repoTgz === undefined ? undefined : sha256(repoTgz), chart.digest, 'pull team/app --verify: the .tgz byte for byte');
      const repoProv = overRepo.files.get('app-1.5.0.tgz.prov');
      t.ok(repoProv?.equals(prov), 'pull team/app --verify: the .prov byte for byte', { files: [...overRepo.files.keys()] });

      // The wrong key: both paths must refuse, and for the signature's sake (not a missing file).
      const unknownSigner = /openpgp: signature made by unknown entity/;
      for (const [what, args] of [
        ['oci://', ['pull', `oci://${server.host}/team/app`, '--version', '1.5.0', '--verify', '--keyring', stranger.pubring, '--plain-http']],
        ['classic', ['pull', 'team/app', '--version', '1.5.0', '--verify', '--keyring', stranger.pubring]],
      ] as const) {
        const dest = tempDir(t, 'pull-wrong-key');
        const full = [...args, '--destination', dest];
        const refused = await helmTry(h, full);
        t.not(refused.code, 0, `pull over ${what} --verify with another key's keyring fails`, { output: describeRun(h, full, refused) });
        t.match(refused.stderr, unknownSigner, `pull over ${what}: the error is about the signature`, { stderr: refused.stderr });
      }

      // A chart without provenance cannot be verified: the absence must show, not pass silently.
      const unsigned = await makeChart(h, tempDir(t, `unsigned${major}`), { name: 'app', version: '1.6.0' });
      await push(h, server, unsigned);
      await helm(h, ['repo', 'update', 'team']);
      const dest = tempDir(t, 'pull-unsigned');
      const noProv = ['pull', 'team/app', '--version', '1.6.0', '--verify', '--keyring', signer.pubring, '--destination', dest];
      const noProvResult = await helmTry(h, noProv);
      t.not(noProvResult.code, 0, 'pull --verify of a chart pushed without .prov fails', { output: describeRun(h, noProv, noProvResult) });
      t.match(noProvResult.stderr, /provenance/, 'the error is about the missing provenance', { stderr: noProvResult.stderr });
    });

    t.test('index.yaml served as JSON (charts.indexFormat: json) works with repo add and search', { timeout: SUBTEST_TIMEOUT }, async (t) => {
      const h = helmFor(t, major);
      if (!h) return;
      const chart = await makeChart(h, tempDir(t, `json${major}`), { name: 'app', version: '2.1.0' });
      const server = await startServer(t, { 'charts.indexFormat': 'json' });
      await push(h, server, chart);

      const raw = await httpGet(`${server.url}/chartrepo/team/index.yaml`);
      t.equal(raw.status, 200, 'GET /chartrepo/team/index.yaml');
      let index: { apiVersion?: unknown; entries?: Record<string, { version?: unknown }[]> } | undefined;
      try {
        index = JSON.parse(raw.body.toString('utf8')) as typeof index;
      } catch {
        index = undefined;
      }
      t.ok(index, 'the index.yaml body is JSON', { body: raw.body.toString('utf8').slice(0, 400) });
      t.equal(index?.apiVersion, 'v1', 'JSON index: apiVersion v1');
      t.same(index?.entries?.['app']?.map((e) => e.version), ['2.1.0'], 'JSON index: the pushed version');

      await helm(h, ['repo', 'add', 'team', `${server.url}/chartrepo/team`]);
      const table = await helm(h, ['search', 'repo', 'team/']);
      t.match(table.stdout, tableRow(chart, 'team'), 'search repo team/ over a JSON index: row team/app 2.1.0', { output: table.stdout });
      t.same(await searchJson(h, ['team/']), [rowOf(chart, 'team')], 'search repo team/ -o json over a JSON index');
      const pulled = await pullInto(t, h, ['team/app', '--version', '2.1.0'], false);
      const bytes = pulled.files.get('app-2.1.0.tgz');
      t.equal(bytes === undefined ? undefined : sha256(bytes), chart.digest, 'pull over a JSON index: byte-identical .tgz');
    });
  });
}

helmSuite(3);
helmSuite(4);
