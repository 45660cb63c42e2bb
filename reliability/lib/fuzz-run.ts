// Runs hostile requests (fuzz-cases.ts) one at a time against two real Chartroom processes (access
// control off, and on for token and credential cases) and checks each answer: never a 5xx, never a
// hang, never a crash, and a refused request stores nothing (row and file counts do not grow).
import { request } from 'node:http';
import { connect } from 'node:net';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import bcrypt from 'bcryptjs';
import { createClient, sha256 } from '../../bench/oci-client.js';
import { startChartroom, type RunningServer } from '../../bench/servers.js';
import { chartTgz, tar } from '../../test/helpers/charts.js';
import { craftedCases, randomCase, type FuzzCase, type FuzzTargets } from './fuzz-cases.js';
import { createRng } from './rng.js';
import { countStore, type StoreCounts } from './store-check.js';

export interface FuzzOptions {
  cases: number;
  seed: number;
  /** Run only this case number (0-based, crafted cases first) to reproduce a finding. */
  only?: number;
  dir?: string;
  log?: (line: string) => void;
}

export interface FuzzFinding {
  problem: string;
  caseNumber: number;
  kind: string;
  request: string;
  count: number;
}

export interface FuzzReport {
  cases: number;
  byStatus: Record<string, number>;
  byKind: Record<string, number>;
  findings: FuzzFinding[];
  seconds: number;
}

const requestTimeoutMs = 30_000;

interface Answer {
  /** 0 when the server closed the connection without an answer. */
  status: number;
  error?: string;
}

function sendRaw(base: URL, bytes: Buffer): Promise<Answer> {
  return new Promise((resolve) => {
    const socket = connect(Number(base.port), base.hostname);
    let data = '';
    const done = (): void => {
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(data);
      resolve({ status: match ? Number(match[1]) : 0 });
    };
    socket.setTimeout(requestTimeoutMs, () => {
      socket.destroy();
      resolve({ status: -1, error: 'no answer' });
    });
    socket.on('connect', () => socket.write(bytes));
    socket.on('data', (chunk: Buffer) => {
      data += chunk.toString('latin1');
      // One answer is enough; a kept-alive socket would wait for the next request.
      if (/^HTTP\/1\.[01] \d{3}[^]*?\r\n\r\n/.test(data)) {
        socket.destroy();
        done();
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', done);
  });
}

function send(base: URL, c: FuzzCase): Promise<Answer> {
  if (c.raw) return sendRaw(base, c.raw);
  return new Promise((resolve) => {
    let settled = false;
    const settle = (answer: Answer): void => {
      if (!settled) resolve(answer);
      settled = true;
    };
    const headers: Record<string, string> = { ...c.headers, connection: 'close' };
    if (c.body && !c.trickleMs) headers['content-length'] = String(c.body.length);
    let req;
    try {
      req = request({ host: base.hostname, port: base.port, method: c.method, path: c.path, headers, agent: false }, (res) => {
        res.resume();
        res.on('end', () => settle({ status: res.statusCode ?? 0 }));
        res.on('error', () => settle({ status: res.statusCode ?? 0 }));
      });
    } catch {
      // Node's client will not send it (a character it refuses in a path or header): send the bytes as they are.
      return void sendRaw(base, rawRequest(c)).then(settle);
    }
    req.setTimeout(requestTimeoutMs, () => {
      req.destroy();
      settle({ status: -1, error: 'no answer' });
    });
    req.on('error', (err) => settle({ status: 0, error: err.message }));
    if (c.body && c.trickleMs) {
      const body = c.body;
      let offset = 0;
      const next = (): void => {
        if (req.destroyed) return;
        if (offset >= body.length) return void req.end();
        req.write(body.subarray(offset, offset + 16));
        offset += 16;
        setTimeout(next, c.trickleMs);
      };
      next();
    } else {
      req.end(c.body);
    }
  });
}

function rawRequest(c: FuzzCase): Buffer {
  const head = [`${c.method} ${c.path} HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: close', ...Object.entries(c.headers).map(([k, v]) => `${k}: ${v}`)];
  if (c.body) head.push(`Content-Length: ${c.body.length}`);
  return Buffer.concat([Buffer.from(`${head.join('\r\n')}\r\n\r\n`, 'utf8'), c.body ?? Buffer.alloc(0)]);
}

const grew = (before: StoreCounts, after: StoreCounts): string[] =>
  (Object.keys(before) as (keyof StoreCounts)[]).filter((key) => after[key] > before[key]).map((key) => `${key} ${before[key]} → ${after[key]}`);

function describeCase(c: FuzzCase): string {
  if (c.raw) return JSON.stringify(c.raw.toString('latin1').slice(0, 160));
  const body = c.body ? ` body ${c.body.length} bytes ${JSON.stringify(c.body.subarray(0, 80).toString('latin1'))}` : '';
  return `${c.method} ${c.path.slice(0, 160)} headers ${JSON.stringify(c.headers).slice(0, 200)}${body}`;
}

async function seedTargets(main: RunningServer, auth: RunningServer): Promise<FuzzTargets> {
  const client = createClient(main.url, 1);
  const authClient = createClient(auth.url, 1);
  try {
    const config = Buffer.from('{"architecture":"amd64","os":"linux"}');
    const layer = Buffer.from('fuzz layer bytes');
    await client.pushBlob('fuzz/app', config);
    await client.pushBlob('fuzz/app', layer);
    const manifest = {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha256(layer), size: layer.length }],
    };
    const manifestBytes = Buffer.from(JSON.stringify(manifest));
    await client.pushManifest('fuzz/app', 'v1', manifestBytes, manifest.mediaType);
    const chart = await client.send('POST', '/api/chartrepo/fuzzns/charts', chartTgz({ name: 'mychart', version: '0.1.0' }));
    if (chart.status !== 201) throw new Error(`seeding a chart failed: ${chart.status}`);
    const sessions: string[] = [];
    for (let i = 0; i < 3; i++) sessions.push(String((await client.send('POST', '/v2/fuzz/app/blobs/uploads/')).headers.location));
    const basic = `Basic ${Buffer.from('fuzz:secret').toString('base64')}`;
    const token = await authClient.send('GET', '/auth/token?service=chartroom&scope=repository:fuzz/app:pull,push,delete', undefined, { authorization: basic });
    return {
      repository: 'fuzz/app',
      tag: 'v1',
      manifestDigest: sha256(manifestBytes),
      blobDigests: [sha256(config), sha256(layer)],
      chartNamespace: 'fuzzns',
      chartName: 'mychart',
      chartVersion: '0.1.0',
      sessions,
      token: (JSON.parse(token.body.toString()) as { token: string }).token,
      manifest,
    };
  } finally {
    client.close();
    authClient.close();
  }
}

/** A chart whose archive unpacks to more than the server's limit (256 MiB by default): a gzip bomb. */
function gzipBomb(): Buffer {
  const header = tar([{ path: 'bomb/Chart.yaml', content: 'apiVersion: v2\nname: bomb\nversion: 1.0.0\n' }]).subarray(0, 1024);
  return gzipSync(Buffer.concat([header, Buffer.alloc(300 * 1024 * 1024)]), { level: 9 });
}

export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const log = options.log ?? (() => {});
  const started = performance.now();
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'chartroom-fuzz-'));
  mkdirSync(dir, { recursive: true });
  const authConfig = join(dir, 'auth.yaml');
  writeFileSync(
    authConfig,
    JSON.stringify({
      auth: { enabled: true, users: [{ name: 'fuzz', password: bcrypt.hashSync('secret', 4) }], rules: [{ repository: 'fuzz/**', pull: ['*'], push: ['*'], delete: ['*'] }] },
    }),
  );
  // Short limits, so that a request which never finishes its head or body is cut off well within
  // the fuzzer's patience: a hang is a finding.
  const env = {
    env: { CHARTROOM_LOG_LEVEL: 'warn', CHARTROOM_HEADERS_TIMEOUT_SECONDS: '5', CHARTROOM_IDLE_TIMEOUT_SECONDS: '10', CHARTROOM_MIN_BODY_BYTES_PER_SECOND: '50' },
  };
  const servers = {
    main: await startChartroom(join(dir, 'main'), join(dir, 'main', 'data'), env),
    auth: await startChartroom(join(dir, 'auth'), join(dir, 'auth', 'data'), { ...env, args: ['--config', authConfig] }),
  };
  const findings = new Map<string, FuzzFinding>();
  const byStatus: Record<string, number> = {};
  const byKind: Record<string, number> = {};
  let cases = 0;
  try {
    const targets = await seedTargets(servers.main, servers.auth);
    const crafted = craftedCases(targets, gzipBomb());
    const total = crafted.length + options.cases;
    for (let n = 0; n < total; n++) {
      // Each random case has its own stream, so `only` rebuilds exactly case n.
      const c = n < crafted.length ? (crafted[n] as FuzzCase) : randomCase(createRng(options.seed * 1_000_003 + n), targets);
      if (options.only !== undefined && n !== options.only) continue;
      const server = c.auth ? servers.auth : servers.main;
      const dataDir = join(dir, c.auth ? 'auth' : 'main', 'data');
      const before = countStore(dataDir);
      const answer = await send(new URL(server.url), c);
      cases += 1;
      byKind[c.kind] = (byKind[c.kind] ?? 0) + 1;
      const statusClass = answer.status > 0 ? `${Math.floor(answer.status / 100)}xx` : answer.status === 0 ? 'closed' : 'hang';
      byStatus[statusClass] = (byStatus[statusClass] ?? 0) + 1;
      const problems: string[] = [];
      if (answer.status >= 500) problems.push(`${answer.status} to a client's request`);
      if (answer.status === -1) problems.push(`no answer within ${requestTimeoutMs / 1000} s`);
      if (!server.alive()) problems.push('the server process died');
      if (answer.status >= 400 || answer.status === 0) {
        // The answer to a broken request can go out before the handler has cleaned up: look again a moment later.
        let stored = grew(before, countStore(dataDir));
        if (stored.length > 0) {
          await new Promise((resolve) => setTimeout(resolve, 500));
          stored = grew(before, countStore(dataDir));
        }
        if (stored.length > 0) problems.push(`refused (${answer.status}) but stored: ${stored.join(', ')}`);
      }
      for (const problem of problems) {
        const key = `${c.kind}: ${problem.replace(/\d+ → \d+/g, 'N → M')}`;
        const known = findings.get(key);
        if (known) known.count += 1;
        else {
          findings.set(key, { problem, caseNumber: n, kind: c.kind, request: describeCase(c), count: 1 });
          log(`case ${n} (${c.kind}): ${problem}\n    ${describeCase(c)}`);
        }
      }
      if (!server.alive()) break;
      if (n % 500 === 499) log(`${n + 1} cases, ${findings.size} distinct findings`);
    }
    return { cases, byStatus, byKind, findings: [...findings.values()], seconds: (performance.now() - started) / 1000 };
  } finally {
    await Promise.all([servers.main.stop(), servers.auth.stop()]);
    if (!options.dir) rmSync(dir, { recursive: true, force: true });
  }
}
