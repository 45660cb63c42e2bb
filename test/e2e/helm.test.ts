// End-to-end: stock Helm 3 and Helm 4 against a real Chartroom server over oci://.
//
// Every subtest starts its own server on 127.0.0.1:0 and runs helm in an isolated HELM_*
// environment (helmEnv), so no test sees another's registry state, cache or credentials.
// Charts are made the way users make them: `helm create`, edit Chart.yaml, `helm package`.
// A missing Helm binary is a failure, never a skip: run `node scripts/provision-clients.mjs`.

import t, { type Test } from 'tap';
import { helmTypes } from '../helpers/charts.js';
import { helmFor, helmTry, makeChart as packageChart, oci, printedDigest, pullOne, push, type Chart, type Helm, type HelmMajor } from '../helpers/helm.js';
import { getManifest, headerOf, httpGet } from '../helpers/http.js';
import { mediaTypes, sha256, type ImageManifest } from '../helpers/oci.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { tempDir } from '../helpers/tmp.js';

const SUBTEST_TIMEOUT = 120_000;
/** Each helm command's budget: half a subtest's. */
const HELM_TIMEOUT = 60_000;

let replicaCounter = 1;

/** A chart whose replicaCount is unique per packaged chart, so templates tell versions apart. */
function makeChart(h: Helm, workDir: string, name: string, version: string): Promise<Chart> {
  return packageChart(h, workDir, {
    name,
    version,
    description: `Chartroom e2e chart ${name} ${version}`,
    replicas: ++replicaCounter,
    extraValues: `chartroomMarker: "${name}-${version}"`,
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
    const packager = helmFor(t, major, HELM_TIMEOUT);
    if (!packager) return;
    const work = tempDir(t, `charts${major}`);
    const charts: Charts = {
      v123: await makeChart(packager, work, 'x', '1.2.3'),
      v1100: await makeChart(packager, work, 'x', '1.10.0'),
      rc: await makeChart(packager, work, 'x', '2.0.0-rc.1'),
      build: await makeChart(packager, work, 'x', '1.0.0+build.1'),
    };

    t.test('push prints the digest of the stored manifest, an OCI image manifest of a Helm chart', { timeout: SUBTEST_TIMEOUT }, async (t) => {
      const h = helmFor(t, major, HELM_TIMEOUT);
      if (!h) return;
      const server = await startServer(t);
      const pushed = await push(h, server, charts.v123);
      const digest = printedDigest(pushed);
      t.match(digest, /^sha256:[0-9a-f]{64}$/, 'helm push prints a digest', { output: pushed.stdout + pushed.stderr });

      const res = await getManifest(server, 'team/x', '1.2.3');
      t.equal(res.status, 200, 'GET /v2/team/x/manifests/1.2.3');
      t.equal(headerOf(res, 'content-type'), mediaTypes.ociManifest, 'manifest Content-Type is the OCI image manifest type');
      t.equal(headerOf(res, 'docker-content-digest'), digest, 'Docker-Content-Digest is the digest helm printed');
      t.equal(sha256(res.body), digest, 'the manifest bytes hash to the digest helm printed');

      const manifest = JSON.parse(res.body.toString('utf8')) as ImageManifest;
      t.equal(manifest.config.mediaType, helmTypes.config, 'config is a Helm chart config');
      const chartLayer = manifest.layers.find((l) => l.mediaType === helmTypes.chart);
      t.ok(chartLayer, 'one layer is the chart content');
      t.equal(chartLayer?.digest, charts.v123.digest, 'chart layer digest is the .tgz digest');
      t.equal(chartLayer?.size, charts.v123.bytes.length, 'chart layer size is the .tgz size');

      const blob = await httpGet(`${server.url}/v2/team/x/blobs/${charts.v123.digest}`);
      t.equal(blob.status, 200, 'the chart blob is served');
      t.equal(sha256(blob.body), charts.v123.digest, 'the chart blob is the .tgz');

      const byDigest = await getManifest(server, 'team/x', digest ?? 'sha256:missing');
      t.equal(byDigest.status, 200, 'the manifest is also reachable by digest');
      t.equal(headerOf(byDigest, 'content-type'), mediaTypes.ociManifest, 'same Content-Type by digest');

      t.same(await tagsOf(server, 'team/x'), { status: 200, tags: ['1.2.3'] }, 'tags/list lists the pushed version');
    });

    t.test('pull --version returns the pushed .tgz byte for byte', { timeout: SUBTEST_TIMEOUT }, async (t) => {
      const h = helmFor(t, major, HELM_TIMEOUT);
      if (!h) return;
      const server = await startServer(t);
      const pushed = printedDigest(await push(h, server, charts.v123));
      const pulled = await pullOne(t, h, `oci://${server.host}/team/x`, ['--version', '1.2.3']);
      t.equal(pulled.fileName, 'x-1.2.3.tgz', 'helm names the file after the chart version');
      sameBytes(t, pulled.bytes, charts.v123, 'pulled chart');
      t.equal(printedDigest(pulled.result), pushed, 'pull reports the digest push reported');
    });

    t.test('pull without --version takes the newest stable version by semver', { timeout: SUBTEST_TIMEOUT }, async (t) => {
      const h = helmFor(t, major, HELM_TIMEOUT);
      if (!h) return;
      const server = await startServer(t);
      // 1.10.0 pushed before 1.2.3 and an rc pushed last: neither push order nor string order may win.
      await push(h, server, charts.v1100);
      await push(h, server, charts.v123);
      await push(h, server, charts.rc);
      const listed = await tagsOf(server, 'team/x');
      t.equal(listed.status, 200, 'GET tags/list');
      t.same([...listed.tags].sort(), ['1.10.0', '1.2.3', '2.0.0-rc.1'], 'tags/list lists all three versions');

      const latest = await pullOne(t, h, `oci://${server.host}/team/x`);
      t.equal(latest.fileName, 'x-1.10.0.tgz', 'helm picks 1.10.0: semver order, prerelease ignored');
      sameBytes(t, latest.bytes, charts.v1100, 'latest');

      const devel = await pullOne(t, h, `oci://${server.host}/team/x`, ['--devel']);
      t.equal(devel.fileName, 'x-2.0.0-rc.1.tgz', 'with --devel helm picks the prerelease');
      sameBytes(t, devel.bytes, charts.rc, 'devel');
    });

    t.test('pull --version with a semver range', { timeout: SUBTEST_TIMEOUT }, async (t) => {
      const h = helmFor(t, major, HELM_TIMEOUT);
      if (!h) return;
      const server = await startServer(t);
      for (const chart of [charts.v123, charts.v1100, charts.rc]) await push(h, server, chart);

      const caret = await pullOne(t, h, `oci://${server.host}/team/x`, ['--version', '^1.0.0']);
      t.equal(caret.fileName, 'x-1.10.0.tgz', '^1.0.0 resolves to 1.10.0');
      sameBytes(t, caret.bytes, charts.v1100, '^1.0.0');

      const tilde = await pullOne(t, h, `oci://${server.host}/team/x`, ['--version', '~1.2.0']);
      t.equal(tilde.fileName, 'x-1.2.3.tgz', '~1.2.0 resolves to 1.2.3');
      sameBytes(t, tilde.bytes, charts.v123, '~1.2.0');
    });

    t.test('pull by digest', { timeout: SUBTEST_TIMEOUT }, async (t) => {
      const h = helmFor(t, major, HELM_TIMEOUT);
      if (!h) return;
      const server = await startServer(t);
      await push(h, server, charts.v1100);
      const digest = printedDigest(await push(h, server, charts.v123));
      if (digest === undefined) return t.fail('helm push printed no digest');
      const pulled = await pullOne(t, h, `oci://${server.host}/team/x@${digest}`);
      // Helm names the file after the reference (x@sha256-<hex>.tgz), so the bytes tell which chart came back.
      sameBytes(t, pulled.bytes, charts.v123, 'pulled by digest (1.2.3, not the other version)');
      t.equal(printedDigest(pulled.result), digest, 'pull reports the asked digest');
    });

    t.test('show chart, show values and template read the chart from oci://', { timeout: SUBTEST_TIMEOUT }, async (t) => {
      const h = helmFor(t, major, HELM_TIMEOUT);
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
      const h = helmFor(t, major, HELM_TIMEOUT);
      if (!h) return;
      const server = await startServer(t);
      const pushed = printedDigest(await push(h, server, charts.build));
      t.same(await tagsOf(server, 'team/x'), { status: 200, tags: ['1.0.0_build.1'] }, 'the tag has _ for +');

      const res = await getManifest(server, 'team/x', '1.0.0_build.1');
      t.equal(res.status, 200, 'manifest by tag 1.0.0_build.1');
      t.equal(headerOf(res, 'docker-content-digest'), pushed, 'it is the pushed manifest');

      const pulled = await pullOne(t, h, `oci://${server.host}/team/x`, ['--version', '1.0.0+build.1']);
      t.equal(pulled.fileName, 'x-1.0.0+build.1.tgz', 'helm maps the tag back to the version with +');
      sameBytes(t, pulled.bytes, charts.build, 'pulled 1.0.0+build.1');
    });

    t.test('re-pushing the identical chart succeeds with the same digest', { timeout: SUBTEST_TIMEOUT }, async (t) => {
      const h = helmFor(t, major, HELM_TIMEOUT);
      if (!h) return;
      const server = await startServer(t);
      const first = printedDigest(await push(h, server, charts.v123));
      const second = await helmTry(h, ['push', charts.v123.file, `oci://${server.host}/team`, '--plain-http']);
      t.equal(second.code, 0, 'second push exits 0', { stderr: second.stderr });
      t.equal(printedDigest(second), first, 'same manifest digest');
      t.same(await tagsOf(server, 'team/x'), { status: 200, tags: ['1.2.3'] }, 'still one tag');
      const pulled = await pullOne(t, h, `oci://${server.host}/team/x`, ['--version', '1.2.3']);
      sameBytes(t, pulled.bytes, charts.v123, 'pulled after re-push');
    });
  });
}

helmSuite(3);
helmSuite(4);

function crossVersion(from: HelmMajor, to: HelmMajor): void {
  t.test(`a chart pushed by Helm ${from} pulls with Helm ${to}`, { timeout: SUBTEST_TIMEOUT }, async (t) => {
    const pusher = helmFor(t, from, HELM_TIMEOUT);
    const puller = helmFor(t, to, HELM_TIMEOUT);
    if (!pusher || !puller) return;
    const chart = await makeChart(pusher, tempDir(t, 'cross'), `cross${from}${to}`, '0.3.0');
    const server = await startServer(t);
    const pushed = printedDigest(await push(pusher, server, chart, 'shared'));
    const pulled = await pullOne(t, puller, `oci://${server.host}/shared/${chart.name}`, ['--version', '0.3.0']);
    t.equal(pulled.fileName, `${chart.name}-0.3.0.tgz`, 'the pulled file is the asked version');
    sameBytes(t, pulled.bytes, chart, `Helm ${to} pull`);
    t.equal(printedDigest(pulled.result), pushed, `Helm ${to} sees the manifest digest Helm ${from} pushed`);
    const shown = await oci(puller, ['show', 'chart', `oci://${server.host}/shared/${chart.name}`]);
    t.match(shown.stdout, /^version: 0\.3\.0$/m, `Helm ${to} resolves the latest version via tags/list`);
  });
}

crossVersion(3, 4);
crossVersion(4, 3);
