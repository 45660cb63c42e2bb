import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, waitForHttp } from './proc.js';

export interface RunningServer {
  name: string;
  url: string;
  pid: number;
  /** Milliseconds from spawn to the first answered request. */
  startMs: number;
  stop(): Promise<void>;
  /** Sends `signal` (SIGKILL by default) and resolves once the process is gone. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Whether the process still runs. */
  alive(): boolean;
}

const chartroomBin = fileURLToPath(new URL('../bin/chartroom.js', import.meta.url));

/** Debian packages the benchmark drives, installed when missing (the script runs as root here). */
export function ensureTools(): void {
  const wanted: [string, string][] = [
    ['docker-registry', 'docker-registry'],
    ['wrk', 'wrk'],
    ['ab', 'apache2-utils'],
    ['nginx', 'nginx-light'],
    ['curl', 'curl'],
  ];
  const missing = wanted.filter(([command]) => spawnSync('sh', ['-c', `command -v ${command}`]).status !== 0).map(([, pkg]) => pkg);
  if (missing.length === 0) return;
  console.error(`installing ${missing.join(', ')} …`);
  const sudo = process.getuid?.() === 0 ? [] : ['sudo'];
  for (const args of [['apt-get', 'update', '-qq'], ['apt-get', 'install', '-y', '-qq', ...missing]]) {
    const [command, ...rest] = [...sudo, ...args] as [string, ...string[]];
    const result = spawnSync(command, rest, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    if (result.status !== 0) throw new Error(`could not install ${missing.join(', ')}`);
  }
}

/** Logs go straight to a file: piping them through this process would steal CPU from the load. */
function launch(name: string, command: string, args: string[], logFile: string, env: Record<string, string> = {}): ChildProcess {
  mkdirSync(dirname(logFile), { recursive: true });
  const log = openSync(logFile, 'a');
  const child = spawn(command, args, { stdio: ['ignore', log, log], env: { ...process.env, ...env } });
  closeSync(log);
  child.once('exit', (code, signal) => {
    if (code !== 0 && signal === null) console.error(`${name} exited with ${code}; see ${logFile}`);
  });
  return child;
}

const exited = (child: ChildProcess): boolean => child.exitCode !== null || child.signalCode !== null;

function killer(child: ChildProcess): (signal?: NodeJS.Signals) => Promise<void> {
  return (signal = 'SIGKILL') =>
    new Promise((resolve) => {
      if (exited(child)) return resolve();
      child.once('exit', () => resolve());
      child.kill(signal);
      if (signal !== 'SIGKILL') setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
    });
}

async function started(name: string, child: ChildProcess, url: string, probe: string): Promise<RunningServer> {
  const spawnedAt = performance.now();
  await waitForHttp(`${url}${probe}`);
  const kill = killer(child);
  return { name, url, pid: child.pid as number, startMs: performance.now() - spawnedAt, stop: () => kill('SIGTERM'), kill, alive: () => !exited(child) };
}

export interface ChartroomLaunch {
  env?: Record<string, string>;
  /** More `serve` flags (`--config f`). */
  args?: string[];
  /** Flags for node itself (`--cpu-prof`). */
  nodeArgs?: string[];
}

/** Chartroom from `bin/chartroom.js` on a free loopback port. */
export async function startChartroom(dir: string, dataDir = join(dir, 'chartroom'), launchWith: ChartroomLaunch = {}): Promise<RunningServer> {
  const port = await freePort();
  const { env = {}, args = [], nodeArgs = [] } = launchWith;
  const argv = [...nodeArgs, chartroomBin, 'serve', '--host', '127.0.0.1', '--port', String(port), '--data', dataDir, ...args];
  const child = launch('chartroom', process.execPath, argv, join(dir, 'chartroom.log'), env);
  return started('chartroom', child, `http://127.0.0.1:${port}`, '/v2/');
}

/** CNCF distribution 2.8 as Debian ships it, with the in-memory blob descriptor cache of its default config. */
export async function startDistribution(dir: string): Promise<RunningServer> {
  const port = await freePort();
  const root = join(dir, 'distribution');
  mkdirSync(root, { recursive: true });
  const config = join(dir, 'distribution.yml');
  writeFileSync(
    config,
    [
      'version: 0.1',
      'log: { level: info }',
      'storage:',
      '  cache: { blobdescriptor: inmemory }',
      `  filesystem: { rootdirectory: ${root} }`,
      '  delete: { enabled: true }',
      `http: { addr: "127.0.0.1:${port}" }`,
      '',
    ].join('\n'),
  );
  const child = launch('distribution', 'docker-registry', ['serve', config], join(dir, 'distribution.log'));
  return started('distribution', child, `http://127.0.0.1:${port}`, '/v2/');
}

/** nginx serving files from `root`, one worker (like one Node process): the ceiling for a GET here. */
export async function startNginx(dir: string, root: string): Promise<RunningServer> {
  const port = await freePort();
  const prefix = join(dir, 'nginx');
  mkdirSync(join(prefix, 'logs'), { recursive: true });
  const config = join(prefix, 'nginx.conf');
  writeFileSync(
    config,
    `daemon off;
worker_processes 1;
pid ${prefix}/nginx.pid;
error_log ${prefix}/logs/error.log warn;
events { worker_connections 1024; }
http {
  access_log ${prefix}/logs/access.log;
  client_body_temp_path ${prefix}/body;
  proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fastcgi;
  uwsgi_temp_path ${prefix}/uwsgi;
  scgi_temp_path ${prefix}/scgi;
  sendfile on;
  keepalive_requests 1000000;
  default_type application/octet-stream;
  server { listen 127.0.0.1:${port}; root ${root}; }
}
`,
  );
  const child = launch('nginx', 'nginx', ['-p', prefix, '-c', config], join(dir, 'nginx.log'));
  return started('nginx', child, `http://127.0.0.1:${port}`, '/');
}
