// End-to-end: stock Helm 3 and Helm 4 against a real Chartroom server over oci://.
//
// Every subtest starts its own server on 127.0.0.1:0 and runs helm in an isolated HELM_*
// environment (helmEnv), so no test sees another's registry state, cache or credentials.
// Charts are made the way users make them: `helm create`, edit Chart.yaml, `helm package`.
// A missing Helm binary is a failure, never a skip: run `node scripts/provision-clients.mjs`.

import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { clientCacheRoot, findHelm, helmEnv, runClient, type ClientResult } from '../helpers/clients.js';
import { startServer, type TestServer } from '../helpers/server.js';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const HELM_CONFIG = 'application/vnd.cncf.helm.config.v1+json';
const HELM_CHART_LAYER = 'application/vnd.cncf.helm.chart.content.v1.tar+gzip';
const SUBTEST_TIMEOUT = 120_000;

type HelmMajor = 3 | 4;

interface Helm {
  major: HelmMajor;
  bin: string;
  env: Record<string, string>;
}

interface Chart {
  name: string;
  version: string;
  /** The packaged .tgz. */
  file: string;
  bytes: Buffer;
  /** sha256 of the .tgz, `sha256:<hex>`. */
  digest: string;
  /** replicaCount in values.yaml: unique per packaged chart, so templates tell versions apart. */
  replicas: number;
}

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
}

interface ImageManifest {
  schemaVersion: number;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
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

/** Runs helm; a non-zero exit throws with the command and its output, which fails the test. */
async function helm(h: Helm, args: string[], cwd?: string): Promise<ClientResult> {
  const result = await runClient(h.bin, args, { env: h.env, cwd, timeoutMs: 60_000 });
  if (result.code !== 0) {
    throw new Error(`helm ${h.major}: \`helm ${args.join(' ')}\` exited ${result.code}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`);
  }
  return result;
}

/** Registry commands talk plain HTTP to the test server; both Helm 3 and 4 accept --plain-http on these. */
function oci(h: Helm, args: string[], cwd?: string): Promise<ClientResult> {
  return helm(h, [...args, '--plain-http'], cwd);
}

let replicaCounter = 1;

/** `helm create` + edit Chart.yaml and values.yaml + `helm package`, into `<workDir>/packages`. */
async function makeChart(h: Helm, workDir: string, name: string, version: string): Promise<Chart> {
  const srcDir = join(workDir, 'src', version);
  mkdirSync(srcDir, { recursive: true });
  const chartDir = join(srcDir, name);
  await helm(h, ['create', chartDir]);

  const chartYamlPath = join(chartDir, 'Chart.yaml');
  const chartYaml = readFileSync(chartYamlPath, 'utf8')
    .replace(/^name:.*$/m, `name: ${name}`)
    .replace(/^version:.*$/m, `version: ${version}`)
    .replace(/^description:.*$/m, `description: Chartroom e2e chart ${name} ${version}`);
  writeFileSync(chartYamlPath, chartYaml);

  const replicas = ++replicaCounter;
  const valuesPath = join(chartDir, 'values.yaml');
  const values = readFileSync(valuesPath, 'utf8').replace(/^replicaCount:.*$/m, `replicaCount: ${replicas}`);
  writeFileSync(valuesPath, `${values}\nchartroomMarker: "${name}-${version}"\n`);

  const outDir = join(workDir, 'packages');
  mkdirSync(outDir, { recursive: true });
  await helm(h, ['package', chartDir, '--destination', outDir]);
  const file = join(outDir, `${name}-${version}.tgz`);
  const bytes = readFileSync(file);
  return { name, version, file, bytes, digest: sha256(bytes), replicas };
}

/** The `Digest: sha256:…` line helm prints after push and pull (stdout or stderr, depending on version). */
function printedDigest(result: ClientResult): string | undefined {
  return /Digest:\s*(sha256:[0-9a-f]{64})/.exec(`${result.stdout}\n${result.stderr}`)?.[1];
}

async function push(h: Helm, server: TestServer, chart: Chart, repo = 'team'): Promise<ClientResult> {
  return oci(h, ['push', chart.file, `oci://${server.host}/${repo}`]);
}

/** Pulls into a fresh directory and returns the one .tgz it holds. */
async function pull(t: Test, h: Helm, ref: string, extra: string[] = []): Promise<{ fileName: string; bytes: Buffer; result: ClientResult }> {
  const dest = tempDir(t, 'pull');
  const result = await oci(h, ['pull', ref, '--destination', dest, ...extra]);
  const files = readdirSync(dest);
  if (files.length !== 1 || files[0] === undefined) throw new Error(`helm pull ${ref} left ${JSON.stringify(files)} in the destination, expected one .tgz`);
  return { fileName: files[0], bytes: readFileSync(join(dest, files[0])), result };
}

interface HttpReply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/**
 * One GET on its own connection with `Connection: close`. Not the global fetch: its kept-alive
 * sockets can outlive app.close() (a blob GET's response may finish on the server only after the
 * client holds every byte, and a socket busy at close is never reaped), stalling teardown for
 * the server's keepAliveTimeout (72 s).
 */
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

function headerOf(reply: HttpReply, name: string): string | undefined {
  const value = reply.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

function fetchManifest(server: TestServer, repo: string, reference: string): Promise<HttpReply> {
  return httpGet(`${server.url}/v2/${repo}/manifests/${reference}`, {
    accept: `${OCI_MANIFEST}, application/vnd.oci.image.index.v1+json`,
  });
}

async function tagsOf(server: TestServer, repo: string): Promise<{ status: number; tags: string[] }> {
  const res = await httpGet(`${server.url}/v2/${repo}/tags/list`);
  if (res.status !== 200) return { status: res.status, tags: [] };
  const body = JSON.parse(res.body.toString('utf8')) as { name?: unknown; tags?: unknown };
  const tags = Array.isArray(body.tags) ? body.tags.filter((x): x is string => typeof x === 'string') : [];
  return { status: res.status, tags };
}

function sameBytes(t: Test, actual: Buffer, expected: Chart, what: string): void {
  t.equal(sha256(actual), expected.digest, `${what}: byte-identical to the pushed ${expected.name}-${expected.version}.tgz`);
}

interface Charts {
  v123: Chart;
  v1100: Chart;
  rc: Chart;
  build: Chart;
}

function helmSuite(major: HelmMajor): void {
  t.test(`Helm ${major}`, { timeout: 600_000 }, async (t) => {
    const packager = helmFor(t, major);
    if (!packager) return;
    const work = tempDir(t, `charts${major}`);
    const charts: Charts = {
      v123: await makeChart(packager, work, 'x', '1.2.3'),
      v1100: await makeChart(packager, work, 'x', '1.10.0'),
      rc: await makeChart(packager, work, 'x', '2.0.0-rc.1'),
      build: await makeChart(packager, work, 'x', '1.0.0+build.1'),
    };

    t.test('push prints the digest of the stored manifest, an OCI image manifest of a Helm chart', { timeout: SUBTEST_TIMEOUT }, async (t) => {
      const h = helmFor(t, major);
      if (!h) return;
      const server = await startServer(t);
      const pushed = await push(h, server, charts.v123);
      const digest = printedDigest(pushed);
      t.match(digest, /^sha256:[0-9a-f]{64}$/, 'helm push prints a digest', { output: pushed.stdout + pushed.stderr });

      const res = await fetchManifest(server, 'team/x', '1.2.3');
      t.equal(res.status, 200, 'GET /v2/team/x/manifests/1.2.3');
      t.equal(headerOf(res, 'content-type'), OCI_MANIFEST, 'manifest Content-Type is the OCI image manifest type');
      t.equal(headerOf(res, 'docker-content-digest'), digest, 'Docker-Content-Digest is the digest helm printed');
      t.equal(sha256(res.body), digest, 'the manifest bytes hash to the digest helm printed');

      const manifest = JSON.parse(res.body.toString('utf8')) as ImageManifest;
      t.equal(manifest.config.mediaType, HELM_CONFIG, 'config is a Helm chart config');
      const chartLayer = manifest.layers.find((l) => l.mediaType === HELM_CHART_LAYER);
      t.ok(chartLayer, 'one layer is the chart content');
      t.equal(chartLayer?.digest, charts.v123.digest, 'chart layer digest is the .tgz digest');
      t.equal(chartLayer?.size, charts.v123.bytes.length, 'chart layer size is the .tgz size');

      const blob = await httpGet(`${server.url}/v2/team/x/blobs/${charts.v123.digest}`);
      t.equal(blob.status, 200, 'the chart blob is served');
      t.equal(sha256(blob.body), charts.v123.digest, 'the chart blob is the .tgz');

      const byDigest = await fetchManifest(server, 'team/x', digest ?? 'sha256:missing');
      t.equal(byDigest.status, 200, 'the manifest is also reachable by digest');
      t.equal(headerOf(byDigest, 'content-type'), OCI_MANIFEST, 'same Content-Type by digest');

      t.same(await tagsOf(server, 'team/x'), { status: 200, tags: ['1.2.3'] }, 'tags/list lists the pushed version');
    });

    t.test('pull --version returns the pushed .tgz byte for byte', { timeout: SUBTEST_TIMEOUT }, async (t) => {
      const h = helmFor(t, major);
      if (!h) return;
      const server = await startServer(t);
      const pushed = printedDigest(await push(h, server, charts.v123));
      const pulled = await pull(t, h, `oci://${server.host}/team/x`, ['--version', '1.2.3']);
      t.equal(pulled.fileName, 'x-1.2.3.tgz', 'helm names the file after the chart version');
      sameBytes(t, pulled.bytes, charts.v123, 'pulled chart');
      t.equal(printedDigest(pulled.result), pushed, 'pull reports the digest push reported');
    });

    t.test('pull without --version takes the newest stable version by semver', { timeout: SUBTEST_TIMEOUT }, async (t) => {
      const h = helmFor(t, major);
      if (!h) return;
      const server = await startServer(t);
      // 1.10.0 pushed before 1.2.3 and an rc pushed last: neither push order nor string order may win.
      await push(h, server, charts.v1100);
      await push(h, server, charts.v123);
      await push(h, server, charts.rc);
      const listed = await tagsOf(server, 'team/x');
      t.equal(listed.status, 200, 'GET tags/list');
      t.same([...listed.tags].sort(), ['1.10.0', '1.2.3', '2.0.0-rc.1'], 'tags/list lists all three versions');

      const latest = await pull(t, h, `oci://${server.host}/team/x`);
      t.equal(latest.fileName, 'x-1.10.0.tgz', 'helm picks 1.10.0: semver order, prerelease ignored');
      sameBytes(t, latest.bytes, charts.v1100, 'latest');

      const devel = await pull(t, h, `oci://${server.host}/team/x`, ['--devel']);
      t.equal(devel.fileName, 'x-2.0.0-rc.1.tgz', 'with --devel helm picks the prerelease');
      sameBytes(t, devel.bytes, charts.rc, 'devel');
    });

    t.test('pull --version with a semver range', { timeout: SUBTEST_TIMEOUT }, async (t) => {
      const h = helmFor(t, major);
      if (!h) return;
      const server = await startServer(t);
      for (const chart of [charts.v123, charts.v1100, charts.rc]) await push(h, server, chart);

      const caret = await pull(t, h, `oci://${server.host}/team/x`, ['--version', '^1.0.0']);
      t.equal(caret.fileName, 'x-1.10.0.tgz', '^1.0.0 resolves to 1.10.0');
      sameBytes(t, caret.bytes, charts.v1100, '^1.0.0');

      const tilde = await pull(t, h, `oci://${server.host}/team/x`, ['--version', '~1.2.0']);
      t.equal(tilde.fileName, 'x-1.2.3.tgz', '~1.2.0 resolves to 1.2.3');
      sameBytes(t, tilde.bytes, charts.v123, '~1.2.0');
    });

    t.test('pull by digest', { timeout: SUBTEST_TIMEOUT }, async (t) => {
      const h = helmFor(t, major);
      if (!h) return;
      const server = await startServer(t);
      await push(h, server, charts.v1100);
      const digest = printedDigest(await push(h, server, charts.v123));
      if (digest === undefined) return t.fail('helm push printed no digest');
      const pulled = await pull(t, h, `oci://${server.host}/team/x@${digest}`);
      // Helm names the file after the reference (x@sha256-<hex>.tgz), so the bytes tell which chart came back.
      sameBytes(t, pulled.bytes, charts.v123, 'pulled by digest (1.2.3, not the other version)');
      t.equal(printedDigest(pulled.result), digest, 'pull reports the asked digest');
    });

    t.test('show chart, show values and template read the chart from oci://', { timeout: SUBTEST_TIMEOUT }, async (t) => {
      const h = helmFor(t, major);
      if (!h) return;
      const server = await startServer(t);
      await push(h, server, charts.v123);
      await push(h, server, charts.v1100);
      const ref = `oci://${server.host}/team/x`;

      const chartYaml = await oci(h, ['show', 'chart', ref, '--version', '1.2.3']);
      t.match(chartYaml.stdout, /^name: x$/m, 'show chart: name');
      t.match(chartYaml.stdout, /^version: 1\.2\.3$/m, 'show chart: the asked version');
      t.match(chartYaml.stdout, /^description: Chartroom e2e chart x 1\.2\.3$/m, 'show chart: the edited description');

      const values = await oci(h, ['show', 'values', ref, '--version', '1.2.3']);
      t.match(values.stdout, /^chartroomMarker: "x-1\.2\.3"$/m, 'show values: the values.yaml of 1.2.3');
      t.match(values.stdout, new RegExp(`^replicaCount: ${charts.v123.replicas}$`, 'm'), 'show values: its replicaCount');

      const rendered = await oci(h, ['template', 'rel', ref, '--version', '1.2.3']);
      t.match(rendered.stdout, /kind: Deployment/, 'template renders the deployment');
      t.match(rendered.stdout, /helm\.sh\/chart: x-1\.2\.3/, 'template: chart label of 1.2.3');
      t.match(rendered.stdout, new RegExp(`replicas: ${charts.v123.replicas}\\b`), 'template: rendered with the values of 1.2.3');

      const latest = await oci(h, ['show', 'chart', ref]);
      t.match(latest.stdout, /^version: 1\.10\.0$/m, 'show chart without --version shows the newest version');
    });

    t.test('a version with build metadata is pushed as tag 1.0.0_build.1 and pulled back by version', { timeout: SUBTEST_TIMEOUT }, async (t) => {
      const h = helmFor(t, major);
      if (!h) return;
      const server = await startServer(t);
      const pushed = printedDigest(await push(h, server, charts.build));
      t.same(await tagsOf(server, 'team/x'), { status: 200, tags: ['1.0.0_build.1'] }, 'the tag has _ for +');

      const res = await fetchManifest(server, 'team/x', '1.0.0_build.1');
      t.equal(res.status, 200, 'manifest by tag 1.0.0_build.1');
      t.equal(headerOf(res, 'docker-content-digest'), pushed, 'it is the pushed manifest');

      const pulled = await pull(t, h, `oci://${server.host}/team/x`, ['--version', '1.0.0+build.1']);
      t.equal(pulled.fileName, 'x-1.0.0+build.1.tgz', 'helm maps the tag back to the version with +');
      sameBytes(t, pulled.bytes, charts.build, 'pulled 1.0.0+build.1');
    });

    t.test('re-pushing the identical chart succeeds with the same digest', { timeout: SUBTEST_TIMEOUT }, async (t) => {
      const h = helmFor(t, major);
      if (!h) return;
      const server = await startServer(t);
      const first = printedDigest(await push(h, server, charts.v123));
      const second = await runClient(h.bin, ['push', charts.v123.file, `oci://${server.host}/team`, '--plain-http'], { env: h.env });
      t.equal(second.code, 0, 'second push exits 0', { stderr: second.stderr });
      t.equal(printedDigest(second), first, 'same manifest digest');
      t.same(await tagsOf(server, 'team/x'), { status: 200, tags: ['1.2.3'] }, 'still one tag');
      const pulled = await pull(t, h, `oci://${server.host}/team/x`, ['--version', '1.2.3']);
      sameBytes(t, pulled.bytes, charts.v123, 'pulled after re-push');
    });
  });
}

helmSuite(3);
helmSuite(4);

function crossVersion(from: HelmMajor, to: HelmMajor): void {
  t.test(`a chart pushed by Helm ${from} pulls with Helm ${to}`, { timeout: SUBTEST_TIMEOUT }, async (t) => {
    const pusher = helmFor(t, from);
    const puller = helmFor(t, to);
    if (!pusher || !puller) return;
    const chart = await makeChart(pusher, tempDir(t, 'cross'), `cross${from}${to}`, '0.3.0');
    const server = await startServer(t);
    const pushed = printedDigest(await push(pusher, server, chart, 'shared'));
    const pulled = await pull(t, puller, `oci://${server.host}/shared/${chart.name}`, ['--version', '0.3.0']);
    t.equal(pulled.fileName, `${chart.name}-0.3.0.tgz`, 'the pulled file is the asked version');
    sameBytes(t, pulled.bytes, chart, `Helm ${to} pull`);
    t.equal(printedDigest(pulled.result), pushed, `Helm ${to} sees the manifest digest Helm ${from} pushed`);
    const shown = await oci(puller, ['show', 'chart', `oci://${server.host}/shared/${chart.name}`]);
    t.match(shown.stdout, /^version: 0\.3\.0$/m, `Helm ${to} resolves the latest version via tags/list`);
  });
}

crossVersion(3, 4);
crossVersion(4, 3);
