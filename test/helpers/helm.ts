// Stock Helm in e2e tests: a Helm binary of one major version in an isolated environment,
// charts made the way users make them (`helm create`, edit, `helm package [--sign]`), pushes,
// pulls into fresh directories and `helm search repo` output.
//
// A missing Helm binary is a failed assertion, never a skip: run `node scripts/provision-clients.mjs`.

import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Test } from 'tap';
import { clientCacheRoot, findHelm, helmEnv, runClient, type ClientResult } from './clients.js';
import type { GpgKey } from './gpg.js';
import { sha256, sha256hex } from './oci.js';
import type { TestServer } from './server.js';
import { tempDir } from './tmp.js';

export type HelmMajor = 3 | 4;

/** How long one helm command may run unless helmFor is told otherwise. */
export const HELM_TIMEOUT = 120_000;

export interface Helm {
  major: HelmMajor;
  bin: string;
  /** The whole environment helm runs in (helmEnv): its own HOME and HELM_* directories. */
  env: Record<string, string>;
  /** Kill a helm command after this long. */
  timeoutMs: number;
}

/** The Helm binary of that major version in a fresh isolated environment, or a failed assertion. */
export function helmFor(t: Test, major: HelmMajor, timeoutMs = HELM_TIMEOUT): Helm | undefined {
  const bin = findHelm(major);
  if (bin === undefined) {
    t.fail(
      `Helm ${major} not found: run "node scripts/provision-clients.mjs" (it caches helm under ${clientCacheRoot()}), ` +
        `put a Helm ${major} binary on PATH, or set HELM${major}`,
    );
    return undefined;
  }
  return { major, bin, env: helmEnv(tempDir(t, `helm${major}-home`)), timeoutMs };
}

/** The command, its exit code and its output, for an error or an assertion's diagnostics. */
export function describeRun(h: Helm, args: string[], result: ClientResult): string {
  return `helm ${h.major}: \`helm ${args.join(' ')}\` exited ${result.code}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`;
}

/** Runs helm and returns whatever it did, exit code included. */
export function helmTry(h: Helm, args: string[], cwd?: string): Promise<ClientResult> {
  return runClient(h.bin, args, { env: h.env, cwd, timeoutMs: h.timeoutMs });
}

/** Runs helm; a non-zero exit throws with the command and its output, which fails the test. */
export async function helm(h: Helm, args: string[], cwd?: string): Promise<ClientResult> {
  const result = await helmTry(h, args, cwd);
  if (result.code !== 0) throw new Error(describeRun(h, args, result));
  return result;
}

/** Registry (oci://) commands talk plain HTTP to the test server; both Helm 3 and 4 accept --plain-http on these. */
export function oci(h: Helm, args: string[], cwd?: string): Promise<ClientResult> {
  return helm(h, [...args, '--plain-http'], cwd);
}

/**
 * Registry (oci://) arguments as a user types them against a plain-HTTP registry: Helm 4 needs
 * --plain-http; Helm 3 falls back to plain HTTP for loopback hosts by itself.
 */
export function ociArgs(h: Helm, args: string[]): string[] {
  return h.major === 4 ? [...args, '--plain-http'] : args;
}

// --- charts -----------------------------------------------------------------------------------

export interface ChartSpec {
  name: string;
  version: string;
  /** Chart.yaml description. */
  description: string;
  /** Chart.yaml appVersion; without it, what `helm create` wrote. */
  appVersion?: string;
  /** values.yaml replicaCount; without it, what `helm create` wrote. */
  replicas?: number;
  /** values.yaml image.repository (rendered by the deployment template); without it, what `helm create` wrote. */
  image?: string;
  /** Lines appended to values.yaml. */
  extraValues?: string;
  /** README.md; without it the chart has none. */
  readme?: string;
  /** Lines appended to Chart.yaml (maintainers, dependencies, …). */
  chartYamlExtra?: string;
  /** More files in the chart directory, by path in it (`values.schema.json`, `charts/dep/Chart.yaml`). */
  files?: Record<string, string>;
  /** Sign with this key (`helm package --sign`), leaving `<name>-<version>.tgz.prov` beside the .tgz. */
  signWith?: GpgKey;
}

export interface Chart {
  name: string;
  version: string;
  /** Chart.yaml appVersion, as packaged ('' if it has none). */
  appVersion: string;
  description: string;
  /** The packaged .tgz. */
  file: string;
  bytes: Buffer;
  /** sha256 of the .tgz, `sha256:<hex>`. */
  digest: string;
  /** sha256 of the .tgz, hex only (as ChartMuseum and index.yaml write it). */
  hex: string;
  /** values.yaml replicaCount, when the spec set it. */
  replicas?: number;
  /** values.yaml image.repository, when the spec set it. */
  image?: string;
  /** `<file>.prov` when the chart was signed. */
  provFile?: string;
  prov?: Buffer;
}

let serial = 0;

/** `helm create` + edit Chart.yaml (and values.yaml, README.md if asked) + `helm package [--sign]`, into `<workDir>/packages`. */
export async function makeChart(h: Helm, workDir: string, spec: ChartSpec): Promise<Chart> {
  const { name, version, description } = spec;
  serial += 1;
  // A source directory of its own even when one workDir packages the same name and version twice.
  const srcDir = join(workDir, 'src', `${name}-${version}-${serial}`);
  mkdirSync(srcDir, { recursive: true });
  const chartDir = join(srcDir, name);
  await helm(h, ['create', chartDir]);

  const chartYamlPath = join(chartDir, 'Chart.yaml');
  let chartYaml = readFileSync(chartYamlPath, 'utf8')
    .replace(/^name:.*$/m, `name: ${name}`)
    .replace(/^version:.*$/m, `version: ${version}`)
    .replace(/^description:.*$/m, `description: ${description}`);
  if (spec.appVersion !== undefined) chartYaml = chartYaml.replace(/^appVersion:.*$/m, `appVersion: "${spec.appVersion}"`);
  if (spec.chartYamlExtra !== undefined) chartYaml = `${chartYaml.trimEnd()}\n${spec.chartYamlExtra}\n`;
  writeFileSync(chartYamlPath, chartYaml);
  const appVersion = spec.appVersion ?? /^appVersion:\s*"?([^"\n]*?)"?\s*$/m.exec(chartYaml)?.[1] ?? '';

  if (spec.replicas !== undefined || spec.image !== undefined || spec.extraValues !== undefined) {
    const valuesPath = join(chartDir, 'values.yaml');
    let values = readFileSync(valuesPath, 'utf8');
    if (spec.replicas !== undefined) values = values.replace(/^replicaCount:.*$/m, `replicaCount: ${spec.replicas}`);
    if (spec.image !== undefined) {
      values = values.replace(/^(\s+)repository:.*$/m, `$1repository: ${spec.image}`);
      if (!values.includes(spec.image)) throw new Error(`helm ${h.major} create: no image.repository in values.yaml to edit:\n${values}`);
    }
    if (spec.extraValues !== undefined) values = `${values}\n${spec.extraValues}\n`;
    writeFileSync(valuesPath, values);
  }
  if (spec.readme !== undefined) writeFileSync(join(chartDir, 'README.md'), spec.readme);
  for (const [path, content] of Object.entries(spec.files ?? {})) {
    mkdirSync(dirname(join(chartDir, path)), { recursive: true });
    writeFileSync(join(chartDir, path), content);
  }

  const outDir = join(workDir, 'packages');
  mkdirSync(outDir, { recursive: true });
  const sign = spec.signWith ? ['--sign', '--key', spec.signWith.name, '--keyring', spec.signWith.secring] : [];
  await helm(h, ['package', chartDir, '--destination', outDir, ...sign]);
  const file = join(outDir, `${name}-${version}.tgz`);
  const bytes = readFileSync(file);
  const chart: Chart = { name, version, appVersion, description, file, bytes, digest: sha256(bytes), hex: sha256hex(bytes) };
  if (spec.replicas !== undefined) chart.replicas = spec.replicas;
  if (spec.image !== undefined) chart.image = spec.image;
  if (spec.signWith) {
    if (!existsSync(`${file}.prov`)) throw new Error(`helm ${h.major} package --sign left no ${file}.prov`);
    chart.provFile = `${file}.prov`;
    chart.prov = readFileSync(chart.provFile);
  }
  return chart;
}

// --- push and pull ----------------------------------------------------------------------------

/** `helm push` to oci://HOST/<namespace> (oci://HOST for a top-level chart, namespace ''). */
export function push(h: Helm, server: TestServer, chart: Pick<Chart, 'file'>, namespace = 'team'): Promise<ClientResult> {
  const target = namespace === '' ? `oci://${server.host}` : `oci://${server.host}/${namespace}`;
  return oci(h, ['push', chart.file, target]);
}

/** The `Digest: sha256:…` line helm prints after push and pull (stdout or stderr, depending on version). */
export function printedDigest(result: ClientResult): string | undefined {
  return /Digest:\s*(sha256:[0-9a-f]{64})/.exec(`${result.stdout}\n${result.stderr}`)?.[1];
}

export interface Pulled {
  /** What the pull left in its destination, by file name. */
  files: Map<string, Buffer>;
  result: ClientResult;
  /** The helm arguments, for describeRun. */
  command: string[];
}

/** `helm pull <args> --destination <fresh dir>`, whatever its exit code; returns the files it left there and how it went. */
export async function pullTry(t: Test, h: Helm, args: string[]): Promise<Pulled> {
  const dest = tempDir(t, 'pull');
  const command = ['pull', ...args, '--destination', dest];
  const result = await helmTry(h, command);
  const files = new Map<string, Buffer>();
  for (const name of readdirSync(dest)) files.set(name, readFileSync(join(dest, name)));
  return { files, result, command };
}

/** pullTry, but a non-zero exit throws with the command and its output, which fails the test. */
export async function pullInto(t: Test, h: Helm, args: string[]): Promise<Pulled> {
  const pulled = await pullTry(t, h, args);
  if (pulled.result.code !== 0) throw new Error(describeRun(h, pulled.command, pulled.result));
  return pulled;
}

/** `helm pull <ref> <extra> --plain-http` into a fresh directory, which must then hold exactly one file: the .tgz. */
export async function pullOne(t: Test, h: Helm, ref: string, extra: string[] = []): Promise<{ fileName: string; bytes: Buffer; result: ClientResult }> {
  const { files, result } = await pullInto(t, h, [ref, ...extra, '--plain-http']);
  const [only, ...more] = files;
  if (only === undefined || more.length > 0) throw new Error(`helm pull ${ref} left ${JSON.stringify([...files.keys()])} in the destination, expected one .tgz`);
  return { fileName: only[0], bytes: only[1], result };
}

// --- helm search repo -------------------------------------------------------------------------

/** One entry of `helm search repo --output json`. */
export interface SearchRow {
  name: string;
  version: string;
  app_version: string;
  description: string;
}

/** `helm search repo <args> --output json`, which must print an array. */
export async function searchJson(h: Helm, args: string[]): Promise<SearchRow[]> {
  const result = await helm(h, ['search', 'repo', ...args, '--output', 'json']);
  const parsed: unknown = JSON.parse(result.stdout);
  if (!Array.isArray(parsed)) throw new Error(`helm search repo ${args.join(' ')} -o json printed no array:\n${result.stdout}`);
  return parsed as SearchRow[];
}

type Listed = Pick<Chart, 'name' | 'version' | 'appVersion' | 'description'>;

/** The `helm search repo -o json` entry for a chart in repository `repo`. */
export function rowOf(chart: Listed, repo: string): SearchRow {
  return { name: `${repo}/${chart.name}`, version: chart.version, app_version: chart.appVersion, description: chart.description };
}

/** `s` as a literal in a RegExp. */
export function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The table row `helm search repo` prints for a chart: NAME, CHART VERSION, APP VERSION, DESCRIPTION. */
export function tableRow(chart: Listed, repo: string): RegExp {
  return new RegExp(
    `^${escapeRe(`${repo}/${chart.name}`)}\\s+${escapeRe(chart.version)}\\s+${escapeRe(chart.appVersion)}\\s+${escapeRe(chart.description)}\\s*$`,
    'm',
  );
}
