import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { tempDataDir } from '../helpers/server.js';

const bin = fileURLToPath(new URL('../../bin/chartroom.js', import.meta.url));
const mib = 1024 * 1024;
const totalBytes = 1024 * mib;

function memoryKiB(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const match = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match?.[1]);
}

/** The same random MiB over and over: cheap to produce, and hashed as it is sent. */
function repeatingBody(total: number, block: Buffer, hash: ReturnType<typeof createHash>): Readable {
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= total) return this.push(null);
      const chunk = block.subarray(0, Math.min(block.length, total - sent));
      sent += chunk.length;
      hash.update(chunk);
      this.push(chunk);
    },
  });
}

function send(url: string, method: string, body?: Readable): Promise<{ status: number; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers: body ? { 'content-type': 'application/octet-stream' } : { 'content-length': 0 } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
    });
    req.on('error', reject);
    if (body) body.pipe(req);
    else req.end();
  });
}

t.test('a 1 GiB streamed upload does not grow the server by more than a few tens of MiB', async (t) => {
  const data = join(tempDataDir(t), 'data');
  const child = spawn(process.execPath, [bin, 'serve', '--port', '0', '--data', data], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => child.kill('SIGKILL'));
  const url = await new Promise<string>((resolve) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      const match = /listening on (http:\/\/[^\s]+)/.exec(line);
      if (match?.[1]) resolve(match[1]);
    });
  });

  const started = await send(`${url}/v2/big/blob/blobs/uploads/`, 'POST');
  const location = `${url}${started.headers.location as string}`;
  const before = memoryKiB(child.pid as number, 'VmRSS');

  const hash = createHash('sha256');
  const patched = await send(location, 'PATCH', repeatingBody(totalBytes, randomBytes(mib), hash));
  t.equal(patched.status, 202);
  t.equal(patched.headers.range, `0-${totalBytes - 1}`);
  const digest = `sha256:${hash.digest('hex')}`;
  const put = await send(`${location}?digest=${digest}`, 'PUT');
  t.equal(put.status, 201);

  const growthMiB = (memoryKiB(child.pid as number, 'VmHWM') - before) / 1024;
  // Each socket read is a new Buffer; V8 collects them once enough external memory piles up.
  // Node 24's V8 lets about 64 MiB pile up (a fixed peak: 54–70 MiB for 128 MiB to 2 GiB
  // uploads), earlier versions about half that (up to ~50 MiB when the machine is busy). A leak
  // or a buffered body grows with the size.
  const limitMiB = Number(process.versions.node.split('.')[0]) >= 24 ? 96 : 64;
  t.ok(growthMiB < limitMiB, `peak RSS grew by ${growthMiB.toFixed(1)} MiB (limit ${limitMiB})`);
  const head = await send(`${url}/v2/big/blob/blobs/${digest}`, 'HEAD');
  t.equal(head.headers['content-length'], String(totalBytes));
});
