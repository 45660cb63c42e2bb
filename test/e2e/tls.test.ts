// End-to-end: Chartroom serving HTTPS with a certificate from a test CA (made with openssl),
// and stock Helm 4 pushing and pulling over it without --plain-http, trusting the CA with
// --ca-file; without the CA, helm refuses the certificate. Also the config checks for TLS.
// Helm 3 is left out: it always speaks plain HTTP to a loopback registry (containerd's
// MatchLocalhost), and test servers bind 127.0.0.1 only.

import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { helm, helmFor, helmTry, makeChart, pullInto, type HelmMajor } from '../helpers/helm.js';
import { startServer, tempDataDir } from '../helpers/server.js';
import { tempDir } from '../helpers/tmp.js';

const bin = fileURLToPath(new URL('../../bin/chartroom.js', import.meta.url));

interface Pki {
  ca: string;
  cert: string;
  key: string;
}

/** A CA and a certificate it signed for 127.0.0.1 and localhost (P-256 keys: quick to make). */
function makePki(dir: string): Pki {
  const file = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', file('ca.key'), '-out', file('ca.pem'), '-days', '2', '-subj', '/CN=Chartroom test CA');
  openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', file('server.key'), '-out', file('server.csr'), '-subj', '/CN=127.0.0.1');
  writeFileSync(file('ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  openssl('x509', '-req', '-in', file('server.csr'), '-CA', file('ca.pem'), '-CAkey', file('ca.key'), '-CAcreateserial', '-out', file('server.pem'), '-days', '2', '-extfile', file('ext.cnf'));
  return { ca: file('ca.pem'), cert: file('server.pem'), key: file('server.key') };
}

function httpsGet(url: string, ca: Buffer): Promise<{ status: number; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    request(url, { ca }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
    })
      .on('error', reject)
      .end();
  });
}

t.test('HTTPS with stock helm', { timeout: 300_000 }, async (t) => {
  const pki = makePki(tempDir(t, 'pki'));
  const server = await startServer(t, { 'tls.cert': pki.cert, 'tls.key': pki.key });
  const base = `https://${server.host}`;
  const res = await httpsGet(`${base}/v2/`, readFileSync(pki.ca));
  t.equal(res.status, 200);
  t.equal(res.headers['docker-distribution-api-version'], 'registry/2.0');

  for (const major of [4] as HelmMajor[]) {
    const h = helmFor(t, major);
    if (!h) continue;
    const chart = await makeChart(h, tempDir(t, `charts${major}`), { name: `secure${major}`, version: '1.2.3', description: 'over TLS' });
    const untrusted = await helmTry(h, ['push', chart.file, `oci://${server.host}/team`]);
    t.not(untrusted.code, 0, `helm ${major}: an unknown CA is refused`);
    t.match(untrusted.stderr, /certificate|x509|tls/i);
    await helm(h, ['push', chart.file, `oci://${server.host}/team`, '--ca-file', pki.ca]);
    const pulled = await pullInto(t, h, [`oci://${server.host}/team/secure${major}`, '--version', '1.2.3', '--ca-file', pki.ca]);
    t.same(pulled.files.get(`secure${major}-1.2.3.tgz`), chart.bytes, `helm ${major}: pulled over HTTPS, byte for byte`);
  }
});

t.test('TLS settings are checked at start', async (t) => {
  const data = tempDataDir(t);
  const half = spawnSync(process.execPath, [bin, 'serve', '--data', data, '--port', '0', '--tls-cert', join(data, 'cert.pem')], { encoding: 'utf8' });
  t.equal(half.status, 2);
  t.match(half.stderr, /'tls.cert' and 'tls.key' go together/);
  const missing = spawnSync(process.execPath, [bin, 'serve', '--data', data, '--port', '0', '--tls-cert', join(data, 'none.pem'), '--tls-key', join(data, 'none.key')], {
    encoding: 'utf8',
  });
  t.equal(missing.status, 2);
  t.match(missing.stderr, /cannot read tls.cert .*none\.pem: ENOENT/);
});
