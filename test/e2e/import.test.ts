// `chartroom import`: a classic repository made by stock helm (`helm package [--sign]`, `helm repo
// index`), read from its directory and from its index.yaml URL on loopback, lands as OCI artifacts
// that `helm pull oci://… --verify` returns byte for byte.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { runCli, type CliResult } from '../helpers/cli.js';
import { signingKeysOnce } from '../helpers/gpg.js';
import { helm, helmFor, makeChart, ociArgs, pullInto, type Chart } from '../helpers/helm.js';
import { chartTgz, pushChart } from '../helpers/charts.js';
import { startServer } from '../helpers/server.js';
import { tempDir } from '../helpers/tmp.js';

const signingKeys = signingKeysOnce(t, { signer: { name: 'Chartroom Import Signer', email: 'import@chartroom.test' } });

function importCli(data: string, ...args: string[]): Promise<CliResult> {
  return runCli(['import', '--data', data, ...args]);
}

/** Serves a directory's files over HTTP on loopback, as a classic chart repository host would. */
async function serveDirectory(t: Test, dir: string): Promise<string> {
  const server = createServer((req, res) => {
    try {
      const body = readFileSync(join(dir, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname).replace(/^\/+/, '').replace(/\.\.+/g, '')));
      res.writeHead(200).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => server.close());
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('no address');
  return `http://127.0.0.1:${address.port}`;
}

t.test('import a classic repository from its directory and from its URL', async (t) => {
  const h = helmFor(t, 3);
  if (!h) return;
  const { signer } = await signingKeys();
  const work = tempDir(t, 'import');
  const repo = join(work, 'repo');
  mkdirSync(repo);
  const charts: Chart[] = [];
  for (const spec of [
    { name: 'web', version: '1.0.0', description: 'web one' },
    { name: 'web', version: '1.1.0', description: 'web two', signWith: signer },
    { name: 'db', version: '0.3.0', description: 'a database' },
  ]) {
    const chart = await makeChart(h, work, spec);
    copyFileSync(chart.file, join(repo, `${spec.name}-${spec.version}.tgz`));
    if (chart.provFile) copyFileSync(chart.provFile, join(repo, `${spec.name}-${spec.version}.tgz.prov`));
    charts.push(chart);
  }
  await helm(h, ['repo', 'index', repo]);

  const server = await startServer(t);
  await pushChart(server.app, 'legacy/other', chartTgz({ name: 'other', version: '1.0.0' }), '1.0.0');
  t.notMatch(await (await fetch(`${server.url}/chartrepo/legacy/index.yaml`)).text(), /web-1\.1\.0/, 'the index is rendered and cached before the import');
  const fromDir = await importCli(server.dataDir, repo, '--namespace', 'legacy');
  t.equal(fromDir.status, 0, fromDir.stderr);
  t.match(fromDir.stderr, /import from .*: 3 stored, 0 unchanged, 0 failed/);
  t.same(fromDir.stdout.split('\n').filter(Boolean).sort(), ['db-0.3.0\tstored', 'web-1.0.0\tstored', 'web-1.1.0\tstored']);

  for (const chart of charts) {
    const pulled = await pullInto(t, h, ociArgs(h, [`oci://${server.host}/legacy/${chart.name}`, '--version', chart.version]));
    t.ok(pulled.files.get(`${chart.name}-${chart.version}.tgz`)?.equals(chart.bytes), `${chart.name} ${chart.version} pulled byte for byte`);
  }
  const verified = await pullInto(t, h, ociArgs(h, [`oci://${server.host}/legacy/web`, '--version', '1.1.0', '--verify', '--keyring', signer.pubring]));
  t.ok(verified.files.has('web-1.1.0.tgz.prov'), 'the provenance came along and verifies');
  let listed = false;
  for (let wait = 0; wait < 30 && !listed; wait++) {
    listed = /web-1\.1\.0\.tgz/.test(await (await fetch(`${server.url}/chartrepo/legacy/index.yaml`)).text());
    if (!listed) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  t.ok(listed, 'the running server sees the import (another process) in its cached classic index within seconds');

  const again = await importCli(server.dataDir, repo, '--namespace', 'legacy');
  t.equal(again.status, 0);
  t.match(again.stderr, /0 stored, 3 unchanged, 0 failed/, 'importing again changes nothing');

  const url = await serveDirectory(t, repo);
  const fromUrl = await importCli(server.dataDir, `${url}/index.yaml`, '--namespace', 'mirror');
  t.equal(fromUrl.status, 0, fromUrl.stderr);
  t.match(fromUrl.stderr, /3 stored, 0 unchanged, 0 failed/);
  const mirrored = await pullInto(t, h, ociArgs(h, [`oci://${server.host}/mirror/db`, '--version', '0.3.0']));
  t.ok(mirrored.files.get('db-0.3.0.tgz')?.equals(charts[2]?.bytes ?? Buffer.alloc(0)), 'over HTTP too');

  // An index whose digest does not match its package: that version fails, the others import.
  writeFileSync(join(repo, 'index.yaml'), readFileSync(join(repo, 'index.yaml'), 'utf8').replace(charts[2]?.hex ?? '', 'f'.repeat(64)));
  const tampered = await importCli(server.dataDir, repo, '--namespace', 'checked');
  t.equal(tampered.status, 1);
  t.match(tampered.stdout, /db-0\.3\.0\tfailed: .* does not match the index's digest/);
  t.match(tampered.stderr, /2 stored, 0 unchanged, 1 failed/);

  const missing = await importCli(server.dataDir, join(work, 'nowhere'));
  t.equal(missing.status, 1);
  t.match(missing.stderr, /does not exist/);
  const down = await importCli(server.dataDir, 'http://127.0.0.1:9/index.yaml');
  t.equal(down.status, 1);
  t.match(down.stderr, /cannot fetch http:\/\/127\.0\.0\.1:9\/index\.yaml/);
});
