// End-to-end: charts pushed with stock Helm 3 and Helm 4 over oci:// are served as classic
// chart repositories at /chartrepo/<namespace> (and /chartrepo for top-level charts), and the
// same Helm binaries use them: repo add, repo update, search repo, pull, template, show readme,
// provenance verification (--verify) over both oci:// and the classic repository, and an
// index.yaml whose body is JSON.
//
// Every subtest starts its own server on 127.0.0.1:0 and runs helm in an isolated HELM_*
// environment (helmEnv). A missing Helm binary or a missing gpg is a failure, never a skip:
// run `node scripts/provision-clients.mjs` for Helm, `apt-get install -y gnupg` for gpg.

import t from 'tap';
import { signingKeysOnce } from '../helpers/gpg.js';
import {
  describeRun,
  helm,
  helmFor,
  helmTry,
  makeChart as packageChart,
  pullInto,
  push,
  rowOf,
  searchJson,
  tableRow,
  type Chart,
  type ChartSpec,
  type Helm,
  type HelmMajor,
} from '../helpers/helm.js';
import { httpGet } from '../helpers/http.js';
import { sha256 } from '../helpers/oci.js';
import { startServer } from '../helpers/server.js';
import { tempDir } from '../helpers/tmp.js';

const SUBTEST_TIMEOUT = 300_000;

interface RepoChart extends Chart {
  /** First line of README.md. */
  readmeTitle: string;
}

let serial = 0;

/**
 * A chart whose appVersion, replicaCount and image.repository (rendered by the deployment
 * template) are unique per packaged chart, with a README.md naming it; signed when `signWith` is given.
 */
async function makeChart(h: Helm, workDir: string, spec: Pick<ChartSpec, 'name' | 'version' | 'signWith'>): Promise<RepoChart> {
  const { name, version } = spec;
  serial += 1;
  const readmeTitle = `# ${name} ${version}: the Chartroom classic repository e2e chart (Helm ${h.major})`;
  const chart = await packageChart(h, workDir, {
    ...spec,
    appVersion: `9.${serial}.${h.major}`,
    description: `Chartroom classic repo e2e ${name} ${version}`,
    replicas: 10 + serial,
    image: `registry.chartroom.test/marker-${name}-${version.replace(/[^0-9a-z]/g, '-')}-h${h.major}`,
    readme: `${readmeTitle}\n\nInstall with \`helm install ${name} team/${name}\`.\n`,
  });
  return { ...chart, readmeTitle };
}

/** Two throwaway keys, generated once for the whole file and shared by both Helm versions: `signer` signs the charts, `stranger` is the wrong key for the negative checks. */
const signingKeys = signingKeysOnce(t, {
  signer: { name: 'Chartroom E2E Signer', email: 'signer@chartroom.test' },
  stranger: { name: 'Chartroom E2E Stranger', email: 'stranger@chartroom.test' },
});

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

      const pulled = await pullInto(t, h, ['team/app', '--version', '1.4.0']);
      t.same([...pulled.files.keys()], ['app-1.4.0.tgz'], 'helm pull team/app --version 1.4.0 writes app-1.4.0.tgz');
      const pulledBytes = pulled.files.get('app-1.4.0.tgz');
      t.equal(pulledBytes === undefined ? undefined : sha256(pulledBytes), v140.digest, 'the pulled .tgz is byte-identical to the pushed one');

      const latest = await pullInto(t, h, ['team/app']);
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
      const pulled = await pullInto(t, h, ['top/x', '--version', '0.3.0']);
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

      const overOci = await pullInto(t, h, [`oci://${server.host}/team/app`, '--version', '1.5.0', '--verify', '--keyring', signer.pubring, '--plain-http']);
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

      const overRepo = await pullInto(t, h, ['team/app', '--version', '1.5.0', '--verify', '--keyring', signer.pubring]);
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
      const pulled = await pullInto(t, h, ['team/app', '--version', '2.1.0']);
      const bytes = pulled.files.get('app-2.1.0.tgz');
      t.equal(bytes === undefined ? undefined : sha256(bytes), chart.digest, 'pull over a JSON index: byte-identical .tgz');
    });
  });
}

helmSuite(3);
helmSuite(4);
