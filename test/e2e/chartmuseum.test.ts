// End-to-end: the ChartMuseum-compatible API (`/api/chartrepo/<namespace>/...`) driven by the
// real curl binary, exactly as CI jobs call it, with stock Helm 3 and Helm 4 as the clients that
// package the charts and pull them back:
//
//  1. `curl --data-binary @x.tgz` (sent as application/x-www-form-urlencoded) → 201, then the chart
//     is an OCI artifact (`helm pull oci://`, `helm show chart oci://`) and in the classic index
//     (`helm repo add/update`, `helm search repo`);
//  2. `curl -F chart=@x.tgz -F prov=@x.tgz.prov` with a `helm package --sign`ed chart → `helm pull
//     --verify` over oci:// and over the classic repository; and a .prov posted on its own to /prov;
//  3. identical re-upload (201, a no-op), conflicting upload (409, stored bytes untouched),
//     `curl -X DELETE` (200) and the version gone from oci:// and from the index;
//  4. the JSON of GET (and HEAD) on the list, one chart and one version, with offset/limit;
//  5. something that is not a chart → 400 with an error naming the problem, and nothing stored.
//
// Every subtest starts its own server on 127.0.0.1:0 and runs helm in an isolated HELM_*
// environment. curl is spawned directly (no shell). A missing Helm, curl or gpg is a failure,
// never a skip: `node scripts/provision-clients.mjs` for Helm, `apt-get install -y curl gnupg`.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import t, { type Test } from 'tap';
import { parse as parseYaml } from 'yaml';
import { tar } from '../helpers/charts.js';
import { runClient } from '../helpers/clients.js';
import { signingKeysOnce } from '../helpers/gpg.js';
import {
  describeRun,
  escapeRe,
  helm,
  helmFor,
  makeChart as packageChart,
  ociArgs,
  pullTry,
  rowOf,
  searchJson,
  tableRow,
  type Chart,
  type ChartSpec,
  type Helm,
  type HelmMajor,
  type Pulled,
} from '../helpers/helm.js';
import { sha256hex } from '../helpers/oci.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { tempDir } from '../helpers/tmp.js';
import { onPath } from '../helpers/which.js';

const SUBTEST_TIMEOUT = 300_000;
const CURL_TIMEOUT = 60_000;

let serial = 0;

/** A chart with an appVersion unique per packaged chart; a different description makes a different .tgz. */
function makeChart(h: Helm, workDir: string, spec: Pick<ChartSpec, 'name' | 'version' | 'signWith'> & { description?: string }): Promise<Chart> {
  serial += 1;
  return packageChart(h, workDir, {
    ...spec,
    appVersion: `7.${serial}.${h.major}`,
    description: spec.description ?? `Chartroom ChartMuseum API e2e ${spec.name} ${spec.version}`,
  });
}

// --- curl -------------------------------------------------------------------------------------

function findCurl(): string | undefined {
  return process.env['CURL'] || onPath('curl');
}

interface CurlReply {
  status: number;
  contentType: string;
  /** The response body (the response headers, for --head). */
  body: Buffer;
  text: string;
  /** The body parsed as JSON, or undefined if it is not JSON. */
  json: unknown;
  /** curl's stderr: the request/response trace when `-v` was given. */
  stderr: string;
  /** The whole exchange, for diagnostics. */
  exchange: string;
}

/** A curl bound to one subtest: its replies go to files in that subtest's temp directory. */
type Curl = (args: string[]) => Promise<CurlReply>;

let curlSerial = 0;

function curlFor(t: Test): Curl | undefined {
  const bin = findCurl();
  if (bin === undefined) {
    t.fail('curl not found: install the Debian package curl (apt-get install -y curl) or set CURL');
    return undefined;
  }
  const dir = tempDir(t, 'curl');
  return async (args: string[]): Promise<CurlReply> => {
    curlSerial += 1;
    const out = join(dir, `reply-${curlSerial}`);
    // No --fail: 4xx/5xx are answers to check, not curl errors. The status goes to stdout.
    const full = ['--silent', '--show-error', '--max-time', '60', '--output', out, '--write-out', '%{http_code} %{content_type}', ...args];
    const result = await runClient(bin, full, { timeoutMs: CURL_TIMEOUT });
    if (result.code !== 0) {
      throw new Error(`\`curl ${full.join(' ')}\` exited ${result.code}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`);
    }
    const [statusText = '', ...typeParts] = result.stdout.trim().split(' ');
    const body = existsSync(out) ? readFileSync(out) : Buffer.alloc(0);
    const text = body.toString('utf8');
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    const contentType = typeParts.join(' ');
    const exchange = `curl ${args.join(' ')}\n→ ${statusText} ${contentType}\n${text.slice(0, 800)}`;
    return { status: Number(statusText), contentType, body, text, json, stderr: result.stderr, exchange };
  };
}

/** Checks an upload answered 201 `{"saved":true}` as JSON. */
function assertSaved(t: Test, reply: CurlReply, what: string): void {
  t.equal(reply.status, 201, `${what}: 201`, { exchange: reply.exchange });
  t.match(reply.contentType, /^application\/json/, `${what}: a JSON answer`, { exchange: reply.exchange });
  t.same(reply.json, { saved: true }, `${what}: {"saved":true}`, { exchange: reply.exchange });
}

/** Checks an error answer: that status, `{"error": "<non-empty string>"}` matching `about`. */
function assertError(t: Test, reply: CurlReply, status: number, about: RegExp, what: string): void {
  t.equal(reply.status, status, `${what}: ${status}`, { exchange: reply.exchange });
  t.match(reply.contentType, /^application\/json/, `${what}: a JSON answer`, { exchange: reply.exchange });
  const error = (reply.json as { error?: unknown } | undefined)?.error;
  t.type(error, 'string', `${what}: {"error": "…"}`, { exchange: reply.exchange });
  t.match(String(error), about, `${what}: the error says what is wrong`, { exchange: reply.exchange });
}

/** The Docker-Content-Digest of a manifest, read with `curl --head`. */
async function manifestDigest(curl: Curl, server: TestServer, repository: string, tag: string): Promise<string | undefined> {
  const reply = await curl([
    '--head',
    '-H',
    'Accept: application/vnd.oci.image.manifest.v1+json',
    `${server.url}/v2/${repository}/manifests/${tag}`,
  ]);
  if (reply.status !== 200) return undefined;
  return /^docker-content-digest:\s*(\S+)\s*$/im.exec(reply.text)?.[1];
}

interface IndexEntryJson {
  name?: unknown;
  version?: unknown;
  appVersion?: unknown;
  apiVersion?: unknown;
  description?: unknown;
  urls?: unknown;
  digest?: unknown;
  created?: unknown;
}

async function indexVersions(t: Test, curl: Curl, server: TestServer, name: string): Promise<string[] | undefined> {
  const reply = await curl([`${server.url}/chartrepo/team/index.yaml`]);
  t.equal(reply.status, 200, 'GET /chartrepo/team/index.yaml', { exchange: reply.exchange });
  const index = parseYaml(reply.text) as { entries?: Record<string, IndexEntryJson[]> } | undefined;
  return index?.entries?.[name]?.map((e) => String(e.version));
}

/** The key that signs the charts, generated once for the whole file. */
const signingKeys = signingKeysOnce(t, { signer: { name: 'Chartroom CM Signer', email: 'cm-signer@chartroom.test' } });

// --- the suites -------------------------------------------------------------------------------

interface Ctx {
  h: Helm;
  curl: Curl;
  work: string;
}

function setup(t: Test, major: HelmMajor, label: string): Ctx | undefined {
  const h = helmFor(t, major);
  const curl = curlFor(t);
  if (!h || !curl) return undefined;
  return { h, curl, work: tempDir(t, `${label}${major}`) };
}

function helmSuite(major: HelmMajor): void {
  t.test(`Helm ${major}`, { timeout: 6 * SUBTEST_TIMEOUT }, async (t) => {
    if (!helmFor(t, major) || !curlFor(t)) return;

    t.test('curl --data-binary upload: pull oci://, show chart, repo add/update/search', { timeout: SUBTEST_TIMEOUT }, async (t) => {
      const ctx = setup(t, major, 'raw');
      if (!ctx) return;
      const { h, curl, work } = ctx;
      const chart = await makeChart(h, work, { name: 'app', version: '1.4.0' });
      const server = await startServer(t);

      const up = await curl(['-v', '--data-binary', `@${chart.file}`, `${server.url}/api/chartrepo/team/charts`]);
      t.match(up.stderr, /^> Content-Type: application\/x-www-form-urlencoded\r?$/m, 'curl --data-binary sent the .tgz as a form body', {
        stderr: up.stderr,
      });
      assertSaved(t, up, 'curl --data-binary @app-1.4.0.tgz');

      const pulled = await pullTry(t, h, ociArgs(h, [`oci://${server.host}/team/app`, '--version', '1.4.0']));
      t.equal(pulled.result.code, 0, 'helm pull oci://HOST/team/app --version 1.4.0 succeeds', { output: describeRun(h, pulled.command, pulled.result) });
      t.same([...pulled.files.keys()], ['app-1.4.0.tgz'], 'helm pull oci:// writes app-1.4.0.tgz');
      const bytes = pulled.files.get('app-1.4.0.tgz');
      t.equal(bytes === undefined ? undefined : sha256hex(bytes), chart.hex, 'the .tgz pulled over oci:// is byte-identical to the uploaded one');

      const shown = await helm(h, ociArgs(h, ['show', 'chart', `oci://${server.host}/team/app`, '--version', '1.4.0']));
      const shownYaml = parseYaml(shown.stdout) as Record<string, unknown> | undefined;
      t.match(
        shownYaml,
        { apiVersion: 'v2', name: 'app', version: '1.4.0', appVersion: chart.appVersion, description: chart.description },
        'helm show chart oci://HOST/team/app prints the uploaded Chart.yaml',
        { output: shown.stdout },
      );

      const repoUrl = `${server.url}/chartrepo/team`;
      const added = await helm(h, ['repo', 'add', 'team', repoUrl]);
      t.match(added.stdout, /"team" has been added/, `helm repo add team ${repoUrl}`);
      const updated = await helm(h, ['repo', 'update']);
      t.match(updated.stdout, /Successfully got an update from the "team" chart repository/, 'helm repo update fetches the team index');
      const table = await helm(h, ['search', 'repo', 'team/app']);
      t.match(table.stdout, tableRow(chart, 'team'), 'helm search repo team/app: the uploaded chart, app version and description', {
        output: table.stdout,
      });
      t.same(await searchJson(h, ['team/app', '--versions']), [rowOf(chart, 'team')], 'helm search repo team/app --versions -o json: exactly 1.4.0');

      const overRepo = await pullTry(t, h, ['team/app', '--version', '1.4.0']);
      t.equal(overRepo.result.code, 0, 'helm pull team/app --version 1.4.0 over the classic repo', { output: describeRun(h, overRepo.command, overRepo.result) });
      const repoBytes = overRepo.files.get('app-1.4.0.tgz');
      t.equal(repoBytes === undefined ? undefined : sha256hex(repoBytes), chart.hex, 'the .tgz pulled over the classic repo is byte-identical');
    });

    t.test('curl -F chart= -F prov=: helm pull --verify over oci:// and the classic repo; .prov posted alone', { timeout: SUBTEST_TIMEOUT }, async (t) => {
      const ctx = setup(t, major, 'signed');
      if (!ctx) return;
      const { h, curl, work } = ctx;
      const { signer } = await signingKeys();
      const chart = await makeChart(h, work, { name: 'app', version: '1.5.0', signWith: signer });
      const prov = chart.prov ?? Buffer.alloc(0);
      t.match(prov.toString('utf8'), /^-----BEGIN PGP SIGNED MESSAGE-----/, 'helm package --sign wrote app-1.5.0.tgz.prov');
      const server = await startServer(t);

      const up = await curl(['-v', '-F', `chart=@${chart.file}`, '-F', `prov=@${chart.provFile ?? ''}`, `${server.url}/api/chartrepo/team/charts`]);
      t.match(up.stderr, /^> Content-Type: multipart\/form-data; boundary=/m, 'curl -F sent multipart/form-data', { stderr: up.stderr });
      assertSaved(t, up, 'curl -F chart=@app-1.5.0.tgz -F prov=@app-1.5.0.tgz.prov');

      const signedBy = new RegExp(`Signed by: ${escapeRe(signer.name)} <${escapeRe(signer.email)}>`);
      const fingerprint = new RegExp(`Using Key With Fingerprint: ${signer.fingerprint}`, 'i');
      const checkVerified = (what: string, pulled: Pulled, name: string, c: Chart): void => {
        const output = describeRun(h, pulled.command, pulled.result);
        t.equal(pulled.result.code, 0, `${what} succeeds`, { output });
        const printed = `${pulled.result.stdout}\n${pulled.result.stderr}`;
        t.match(printed, signedBy, `${what}: signed by the signer`, { output });
        t.match(printed, fingerprint, `${what}: the signer's fingerprint`, { output });
        t.match(printed, new RegExp(`Chart Hash Verified: sha256:${c.hex}`), `${what}: chart hash verified`, { output });
        const tgz = pulled.files.get(`${name}.tgz`);
        t.equal(tgz === undefined ? undefined : sha256hex(tgz), c.hex, `${what}: the .tgz byte for byte`);
        t.ok(pulled.files.get(`${name}.tgz.prov`)?.equals(c.prov ?? Buffer.alloc(0)), `${what}: the .prov byte for byte`, {
          files: [...pulled.files.keys()],
        });
      };

      const overOci = await pullTry(t, h, ociArgs(h, [`oci://${server.host}/team/app`, '--version', '1.5.0', '--verify', '--keyring', signer.pubring]));
      checkVerified('helm pull oci://HOST/team/app --version 1.5.0 --verify', overOci, 'app-1.5.0', chart);

      await helm(h, ['repo', 'add', 'team', `${server.url}/chartrepo/team`]);
      await helm(h, ['repo', 'update']);
      const overRepo = await pullTry(t, h, ['team/app', '--version', '1.5.0', '--verify', '--keyring', signer.pubring]);
      checkVerified('helm pull team/app --version 1.5.0 --verify (classic repo)', overRepo, 'app-1.5.0', chart);

      // The two-step form: the .tgz as a raw body, then the .prov to /prov on its own.
      const later = await makeChart(h, work, { name: 'app', version: '1.6.0', signWith: signer });
      assertSaved(t, await curl(['--data-binary', `@${later.file}`, `${server.url}/api/chartrepo/team/charts`]), 'curl --data-binary @app-1.6.0.tgz');
      const unverifiable = await pullTry(t, h, ociArgs(h, [`oci://${server.host}/team/app`, '--version', '1.6.0', '--verify', '--keyring', signer.pubring]));
      t.not(unverifiable.result.code, 0, 'before its .prov is posted, pull --verify of 1.6.0 fails', {
        output: describeRun(h, unverifiable.command, unverifiable.result),
      });
      const provUp = await curl(['--data-binary', `@${later.provFile ?? ''}`, `${server.url}/api/chartrepo/team/prov`]);
      assertSaved(t, provUp, 'curl --data-binary @app-1.6.0.tgz.prov …/api/chartrepo/team/prov');
      const laterOci = await pullTry(t, h, ociArgs(h, [`oci://${server.host}/team/app`, '--version', '1.6.0', '--verify', '--keyring', signer.pubring]));
      checkVerified('after POST /prov, helm pull oci://…/app --version 1.6.0 --verify', laterOci, 'app-1.6.0', later);
      await helm(h, ['repo', 'update', 'team']);
      const laterRepo = await pullTry(t, h, ['team/app', '--version', '1.6.0', '--verify', '--keyring', signer.pubring]);
      checkVerified('after POST /prov, helm pull team/app --version 1.6.0 --verify (classic repo)', laterRepo, 'app-1.6.0', later);
    });

    t.test('identical re-upload 201, conflicting upload 409 (bytes kept), DELETE removes it everywhere', { timeout: SUBTEST_TIMEOUT }, async (t) => {
      const ctx = setup(t, major, 'conflict');
      if (!ctx) return;
      const { h, curl, work } = ctx;
      const v140 = await makeChart(h, join(work, 'a'), { name: 'app', version: '1.4.0' });
      const v150 = await makeChart(h, join(work, 'a'), { name: 'app', version: '1.5.0' });
      const impostor = await makeChart(h, join(work, 'b'), { name: 'app', version: '1.4.0', description: 'A different chart claiming 1.4.0' });
      t.not(impostor.hex, v140.hex, 'the conflicting chart really is a different .tgz');
      const server = await startServer(t);
      const api = `${server.url}/api/chartrepo/team/charts`;

      assertSaved(t, await curl(['--data-binary', `@${v140.file}`, api]), 'upload app-1.4.0.tgz');
      assertSaved(t, await curl(['--data-binary', `@${v150.file}`, api]), 'upload app-1.5.0.tgz');
      const manifestBefore = await manifestDigest(curl, server, 'team/app', '1.4.0');
      t.match(manifestBefore, /^sha256:[0-9a-f]{64}$/, 'team/app:1.4.0 has a manifest');

      assertSaved(t, await curl(['--data-binary', `@${v140.file}`, api]), 'identical re-upload of app-1.4.0.tgz (raw)');
      assertSaved(t, await curl(['-F', `chart=@${v140.file}`, api]), 'identical re-upload of app-1.4.0.tgz (multipart)');
      t.equal(await manifestDigest(curl, server, 'team/app', '1.4.0'), manifestBefore, 'an identical re-upload leaves the manifest as it was');

      const conflictRaw = await curl(['--data-binary', `@${impostor.file}`, api]);
      assertError(t, conflictRaw, 409, /1\.4\.0/, 'a different app-1.4.0.tgz (raw)');
      const conflictForm = await curl(['-F', `chart=@${impostor.file}`, api]);
      assertError(t, conflictForm, 409, /1\.4\.0/, 'a different app-1.4.0.tgz (multipart)');

      const described = await curl([`${api}/app/1.4.0`]);
      t.equal(described.status, 200, 'GET …/charts/app/1.4.0 after the 409', { exchange: described.exchange });
      t.equal((described.json as IndexEntryJson | undefined)?.digest, v140.hex, 'the API still gives the digest of the first upload');
      t.equal((described.json as IndexEntryJson | undefined)?.description, v140.description, 'and its description');
      const download = await curl([`${server.url}/chartrepo/team/charts/app-1.4.0.tgz`]);
      t.equal(download.status, 200, 'GET /chartrepo/team/charts/app-1.4.0.tgz', { exchange: download.exchange });
      t.equal(sha256hex(download.body), v140.hex, 'the classic repo still serves the first upload byte for byte');
      t.equal(await manifestDigest(curl, server, 'team/app', '1.4.0'), manifestBefore, 'the 409 left the manifest as it was');
      const kept = await pullTry(t, h, ociArgs(h, [`oci://${server.host}/team/app`, '--version', '1.4.0']));
      t.equal(kept.result.code, 0, 'helm pull oci://…/app --version 1.4.0 after the 409', { output: describeRun(h, kept.command, kept.result) });
      const keptBytes = kept.files.get('app-1.4.0.tgz');
      t.equal(keptBytes === undefined ? undefined : sha256hex(keptBytes), v140.hex, 'helm pull oci:// still returns the first upload byte for byte');

      await helm(h, ['repo', 'add', 'team', `${server.url}/chartrepo/team`]);
      t.same(
        (await searchJson(h, ['team/app', '--versions'])).map((r) => [r.version, r.description]),
        [
          ['1.5.0', v150.description],
          ['1.4.0', v140.description],
        ],
        'before DELETE: search repo --versions lists 1.5.0 and the first 1.4.0',
      );

      const deleted = await curl(['-X', 'DELETE', `${api}/app/1.4.0`]);
      t.equal(deleted.status, 200, 'curl -X DELETE …/charts/app/1.4.0: 200', { exchange: deleted.exchange });
      t.same(deleted.json, { deleted: true }, 'curl -X DELETE …/charts/app/1.4.0: {"deleted":true}', { exchange: deleted.exchange });

      const gone = await pullTry(t, h, ociArgs(h, [`oci://${server.host}/team/app`, '--version', '1.4.0']));
      t.not(gone.result.code, 0, 'after DELETE, helm pull oci://…/app --version 1.4.0 fails', { output: describeRun(h, gone.command, gone.result) });
      t.same([...gone.files.keys()], [], 'and writes nothing');
      t.match(gone.result.stderr, /not found|404/i, 'and the error is that it is not found', { stderr: gone.result.stderr });
      const still = await pullTry(t, h, ociArgs(h, [`oci://${server.host}/team/app`, '--version', '1.5.0']));
      t.equal(still.result.code, 0, 'helm pull oci://…/app --version 1.5.0 still works', { output: describeRun(h, still.command, still.result) });

      t.same(await indexVersions(t, curl, server, 'app'), ['1.5.0'], 'index.yaml lists app 1.5.0 only');
      await helm(h, ['repo', 'update', 'team']);
      t.same(await searchJson(h, ['team/app', '--versions']), [rowOf(v150, 'team')], 'after repo update, search repo --versions: 1.5.0 only');
      const notListed = await pullTry(t, h, ['team/app', '--version', '1.4.0']);
      t.not(notListed.result.code, 0, 'helm pull team/app --version 1.4.0 over the classic repo fails', {
        output: describeRun(h, notListed.command, notListed.result),
      });
      assertError(t, await curl([`${api}/app/1.4.0`]), 404, /./, 'GET …/charts/app/1.4.0 after DELETE');
      const downloadGone = await curl([`${server.url}/chartrepo/team/charts/app-1.4.0.tgz`]);
      t.equal(downloadGone.status, 404, 'GET /chartrepo/team/charts/app-1.4.0.tgz after DELETE: 404', { exchange: downloadGone.exchange });
      assertError(t, await curl(['-X', 'DELETE', `${api}/app/1.4.0`]), 404, /./, 'a second DELETE of app 1.4.0');
    });

    t.test('GET and HEAD: list (offset/limit), one chart, one version', { timeout: SUBTEST_TIMEOUT }, async (t) => {
      const ctx = setup(t, major, 'list');
      if (!ctx) return;
      const { h, curl, work } = ctx;
      const v140 = await makeChart(h, work, { name: 'app', version: '1.4.0' });
      const v150 = await makeChart(h, work, { name: 'app', version: '1.5.0' });
      const db = await makeChart(h, work, { name: 'db', version: '0.1.0' });
      const server = await startServer(t);
      const api = `${server.url}/api/chartrepo/team/charts`;
      // Uploaded out of order: the answers must sort, not echo the upload order.
      for (const chart of [v140, db, v150]) assertSaved(t, await curl(['--data-binary', `@${chart.file}`, api]), `upload ${chart.name}-${chart.version}.tgz`);

      const checkEntry = (entry: unknown, chart: Chart, where: string): void => {
        const e = (entry ?? {}) as IndexEntryJson;
        t.match(
          e,
          { name: chart.name, version: chart.version, appVersion: chart.appVersion, apiVersion: 'v2', description: chart.description },
          `${where}: name, version, appVersion, apiVersion, description from Chart.yaml`,
          { entry },
        );
        t.same(e.urls, [`charts/${chart.name}-${chart.version}.tgz`], `${where}: urls [charts/${chart.name}-${chart.version}.tgz]`, { entry });
        t.equal(e.digest, chart.hex, `${where}: digest is the sha256 of the .tgz`, { entry });
        t.ok(typeof e.created === 'string' && !Number.isNaN(Date.parse(e.created)), `${where}: created is a date`, { entry });
      };

      const list = await curl([api]);
      t.equal(list.status, 200, 'GET …/charts: 200', { exchange: list.exchange });
      t.match(list.contentType, /^application\/json/, 'GET …/charts: JSON');
      const byName = (list.json ?? {}) as Record<string, unknown[]>;
      t.same(Object.keys(byName), ['app', 'db'], 'GET …/charts: keyed by chart name', { exchange: list.exchange });
      t.same(
        byName['app']?.map((e) => (e as IndexEntryJson).version),
        ['1.5.0', '1.4.0'],
        'GET …/charts: app → its versions, newest first',
      );
      checkEntry(byName['app']?.[0], v150, 'list app[0]');
      checkEntry(byName['app']?.[1], v140, 'list app[1]');
      t.equal(byName['db']?.length, 1, 'GET …/charts: db → one version');
      checkEntry(byName['db']?.[0], db, 'list db[0]');

      for (const [query, names] of [
        ['?limit=1', ['app']],
        ['?offset=1', ['db']],
        ['?offset=1&limit=1', ['db']],
        ['?offset=0&limit=5', ['app', 'db']],
        ['?offset=2', []],
      ] as const) {
        const page = await curl([`${api}${query}`]);
        t.equal(page.status, 200, `GET …/charts${query}: 200`, { exchange: page.exchange });
        t.same(Object.keys((page.json ?? { missing: true }) as object), names, `GET …/charts${query}: ${JSON.stringify(names)}`, { exchange: page.exchange });
      }
      assertError(t, await curl([`${api}?limit=abc`]), 400, /limit/, 'GET …/charts?limit=abc');

      const one = await curl([`${api}/app`]);
      t.equal(one.status, 200, 'GET …/charts/app: 200', { exchange: one.exchange });
      t.ok(Array.isArray(one.json), 'GET …/charts/app: an array of versions', { exchange: one.exchange });
      const versions = Array.isArray(one.json) ? (one.json as unknown[]) : [];
      t.same(versions.map((e) => (e as IndexEntryJson).version), ['1.5.0', '1.4.0'], 'GET …/charts/app: newest first');
      checkEntry(versions[0], v150, 'GET …/charts/app [0]');
      checkEntry(versions[1], v140, 'GET …/charts/app [1]');

      const version = await curl([`${api}/app/1.5.0`]);
      t.equal(version.status, 200, 'GET …/charts/app/1.5.0: 200', { exchange: version.exchange });
      t.notOk(Array.isArray(version.json), 'GET …/charts/app/1.5.0: one object, not a list', { exchange: version.exchange });
      checkEntry(version.json, v150, 'GET …/charts/app/1.5.0');
      checkEntry((await curl([`${api}/app/1.4.0`])).json, v140, 'GET …/charts/app/1.4.0');

      // The url resolves against the repository URL and serves those bytes.
      const url = ((version.json ?? {}) as IndexEntryJson).urls;
      const first = Array.isArray(url) ? String(url[0]) : 'missing';
      const fetched = await curl([`${server.url}/chartrepo/team/${first}`]);
      t.equal(fetched.status, 200, `GET /chartrepo/team/${first}`, { exchange: fetched.exchange });
      t.equal(sha256hex(fetched.body), v150.hex, 'the url serves the .tgz whose sha256 is the digest');

      assertError(t, await curl([`${api}/app/9.9.9`]), 404, /./, 'GET …/charts/app/9.9.9');
      assertError(t, await curl([`${api}/nope`]), 404, /./, 'GET …/charts/nope');
      for (const [path, status] of [
        ['/app/1.5.0', 200],
        ['/app', 200],
        ['/app/9.9.9', 404],
        ['/nope', 404],
      ] as const) {
        const head = await curl(['--head', `${api}${path}`]);
        t.equal(head.status, status, `HEAD …/charts${path}: ${status}`, { exchange: head.exchange });
      }

      // The listed chart is what the OCI side serves too.
      const pulled = await pullTry(t, h, ociArgs(h, [`oci://${server.host}/team/db`, '--version', '0.1.0']));
      t.equal(pulled.result.code, 0, 'helm pull oci://…/team/db --version 0.1.0', { output: describeRun(h, pulled.command, pulled.result) });
      const dbBytes = pulled.files.get('db-0.1.0.tgz');
      t.equal(dbBytes === undefined ? undefined : sha256hex(dbBytes), db.hex, 'helm pull oci:// gives the .tgz the API digest names');
    });

    t.test('not a chart: 400 with the problem named, nothing stored', { timeout: SUBTEST_TIMEOUT }, async (t) => {
      const ctx = setup(t, major, 'bad');
      if (!ctx) return;
      const { h, curl, work } = ctx;
      const server = await startServer(t);
      const api = `${server.url}/api/chartrepo/team/charts`;
      const text = join(work, 'notachart.txt');
      writeFileSync(text, 'This is a text file, not a Helm chart.\n');
      const noChartYaml = join(work, 'nochartyaml-1.0.0.tgz');
      writeFileSync(noChartYaml, gzipSync(tar([{ path: 'app/values.yaml', content: 'replicaCount: 1\n' }])));

      assertError(t, await curl(['--data-binary', `@${text}`, api]), 400, /gzip|not a (valid )?(helm )?chart|invalid chart/i, 'curl --data-binary @notachart.txt');
      assertError(t, await curl(['-F', `chart=@${text}`, api]), 400, /gzip|not a (valid )?(helm )?chart|invalid chart/i, 'curl -F chart=@notachart.txt');
      assertError(t, await curl(['--data-binary', `@${noChartYaml}`, api]), 400, /Chart\.yaml/, 'a .tgz without Chart.yaml');
      assertError(t, await curl(['--data-binary', `@${text}`, `${server.url}/api/chartrepo/team/prov`]), 400, /provenance|signed|PGP/i, 'notachart.txt posted to /prov');

      const catalog = await curl([`${server.url}/v2/_catalog`]);
      t.equal(catalog.status, 200, 'GET /v2/_catalog: 200', { exchange: catalog.exchange });
      t.same(catalog.json, { repositories: [] }, 'GET /v2/_catalog: no repository after the refused uploads', { exchange: catalog.exchange });
      const listed = await curl([api]);
      t.equal(listed.status, 200, 'GET …/charts: 200', { exchange: listed.exchange });
      t.same(listed.json, {}, 'GET …/charts: no charts', { exchange: listed.exchange });

      // And the catalog check can see an upload: a real chart shows up there at once.
      const chart = await makeChart(h, work, { name: 'app', version: '0.1.0' });
      assertSaved(t, await curl(['--data-binary', `@${chart.file}`, api]), 'then a real chart');
      const after = await curl([`${server.url}/v2/_catalog`]);
      t.same(after.json, { repositories: ['team/app'] }, 'GET /v2/_catalog then lists team/app only', { exchange: after.exchange });
      const pulled = await pullTry(t, h, ociArgs(h, [`oci://${server.host}/team/app`, '--version', '0.1.0']));
      t.equal(pulled.result.code, 0, 'and helm pull oci://…/team/app --version 0.1.0 gets it', { output: describeRun(h, pulled.command, pulled.result) });
    });
  });
}

helmSuite(3);
helmSuite(4);
