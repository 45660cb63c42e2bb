// Locating and running the stock clients (helm 3, helm 4, skopeo) in e2e tests.
//
// The binaries are provisioned by `node scripts/provision-clients.mjs` into
// $CHARTROOM_CLIENT_CACHE/<helm version>/helm (default ~/.cache/chartroom/clients);
// the pinned versions are in scripts/clients.json. Explicit HELM3 / HELM4 / SKOPEO
// environment variables win.

import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isExecutable } from './which.js';

interface HelmPin {
  major: number;
  version: string;
}

const MANIFEST_URL = new URL('../../scripts/clients.json', import.meta.url);

let pinnedCache: HelmPin[] | undefined;

/** The Helm versions pinned in scripts/clients.json. */
function pinnedHelm(): HelmPin[] {
  if (pinnedCache) return pinnedCache;
  const parsed: unknown = JSON.parse(readFileSync(MANIFEST_URL, 'utf8'));
  const list: unknown = typeof parsed === 'object' && parsed !== null ? (parsed as { helm?: unknown }).helm : undefined;
  if (!Array.isArray(list)) throw new Error(`${MANIFEST_URL.pathname}: no "helm" array`);
  const pins: HelmPin[] = [];
  for (const item of list as unknown[]) {
    if (typeof item !== 'object' || item === null) continue;
    const { major, version } = item as { major?: unknown; version?: unknown };
    if (typeof major === 'number' && typeof version === 'string') pins.push({ major, version });
  }
  pinnedCache = pins;
  return pins;
}

/** Root of the client cache: $CHARTROOM_CLIENT_CACHE or ~/.cache/chartroom/clients. */
export function clientCacheRoot(): string {
  const override = process.env['CHARTROOM_CLIENT_CACHE'];
  if (override) return path.resolve(override);
  return path.join(os.homedir(), '.cache', 'chartroom', 'clients');
}

function whichOnPath(name: string): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/** Major version reported by `helm version --short`, or undefined if it does not run. */
function helmMajorOf(bin: string): number | undefined {
  const r = spawnSync(bin, ['version', '--short'], { encoding: 'utf8', timeout: 30_000, stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.error || r.status !== 0) return undefined;
  const m = /^v(\d+)\./.exec(r.stdout.trim());
  return m?.[1] === undefined ? undefined : Number(m[1]);
}

const helmMemo = new Map<3 | 4, string | undefined>();

/**
 * Path of a Helm binary of the given major version, or undefined when none is available:
 *  1. $HELM3 / $HELM4 if set (returned as given: an explicit path wins, even if broken,
 *     so that a misconfiguration fails loudly instead of silently falling back);
 *  2. the provisioned cache, <cache root>/<pinned version>/helm;
 *  3. `helm` on PATH, if `helm version --short` reports that major.
 */
export function findHelm(major: 3 | 4): string | undefined {
  if (helmMemo.has(major)) return helmMemo.get(major);
  let found: string | undefined;
  const explicit = process.env[`HELM${major}`];
  if (explicit) {
    found = explicit;
  } else {
    for (const pin of pinnedHelm()) {
      if (pin.major !== major) continue;
      const cached = path.join(clientCacheRoot(), pin.version, 'helm');
      if (isExecutable(cached)) {
        found = cached;
        break;
      }
    }
    if (found === undefined) {
      const onPath = whichOnPath('helm');
      if (onPath !== undefined && helmMajorOf(onPath) === major) found = onPath;
    }
  }
  helmMemo.set(major, found);
  return found;
}

/** Path of skopeo: $SKOPEO if set, else `skopeo` on PATH, else undefined. */
export function findSkopeo(): string | undefined {
  const explicit = process.env['SKOPEO'];
  if (explicit) return explicit;
  return whichOnPath('skopeo');
}

/**
 * An isolated environment for running helm: every Helm config, cache and data path
 * (and HOME, so ~/.docker and ~/.kube are not read either) lives under `home`, which
 * is created if missing. This is the whole environment, not an overlay: pass it as
 * `env` to runClient. The directory layout matches Helm's defaults under $HOME.
 */
export function helmEnv(home: string): Record<string, string> {
  const abs = path.resolve(home);
  const cache = path.join(abs, '.cache', 'helm');
  const config = path.join(abs, '.config', 'helm');
  const data = path.join(abs, '.local', 'share', 'helm');
  for (const dir of [cache, config, data, path.join(config, 'registry'), path.join(cache, 'repository')]) {
    mkdirSync(dir, { recursive: true });
  }
  return {
    HOME: abs,
    PATH: process.env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin',
    HELM_CACHE_HOME: cache,
    HELM_CONFIG_HOME: config,
    HELM_DATA_HOME: data,
    HELM_REGISTRY_CONFIG: path.join(config, 'registry', 'config.json'),
    HELM_REPOSITORY_CONFIG: path.join(config, 'repositories.yaml'),
    HELM_REPOSITORY_CACHE: path.join(cache, 'repository'),
    HELM_PLUGINS: path.join(data, 'plugins'),
    HELM_CONTENT_CACHE: path.join(cache, 'content'), // Helm 4 only; ignored by Helm 3
    KUBECONFIG: path.join(abs, '.kube', 'config'),
    DOCKER_CONFIG: path.join(abs, '.docker'),
    XDG_CACHE_HOME: path.join(abs, '.cache'),
    XDG_CONFIG_HOME: path.join(abs, '.config'),
    XDG_DATA_HOME: path.join(abs, '.local', 'share'),
  };
}

export interface RunClientOptions {
  /** The child's whole environment (not merged with process.env); default process.env. */
  env?: Record<string, string>;
  cwd?: string;
  /** Written to stdin, which is then closed. Without it stdin is closed at once. */
  input?: string;
  /** Kill the child (SIGKILL) and reject after this long; default 60 s. */
  timeoutMs?: number;
}

export interface ClientResult {
  /** Exit code; 128 + signal number if the child died from a signal. */
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Run a client binary directly (never through a shell) and collect its output.
 * Resolves with any exit code; rejects only if it cannot be started or times out.
 */
export function runClient(bin: string, args: string[], opts: RunClientOptions = {}): Promise<ClientResult> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  return new Promise<ClientResult>((resolve, reject) => {
    const child = spawn(bin, args, {
      env: opts.env ?? process.env,
      cwd: opts.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
      shell: false,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let settled = false;
    const describe = (): string => [bin, ...args].join(' ');

    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      child.kill('SIGKILL');
      const stderr = Buffer.concat(err).toString('utf8');
      reject(new Error(`${describe()} timed out after ${timeoutMs} ms${stderr ? `\nstderr:\n${stderr}` : ''}`));
    }, timeoutMs);

    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.stdin.on('error', () => {
      // EPIPE when the child exits without reading its input: the exit code tells.
    });
    child.on('error', (e: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(new Error(`cannot run ${describe()}: ${e.message}`));
    });
    child.on('close', (code: number | null, signal: NodeJS.Signals | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({
        code: code ?? 128 + (signal ? (os.constants.signals[signal] ?? 0) : 0),
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });

    child.stdin.end(opts.input ?? '');
  });
}
