// End-to-end: stock `helm search hub --endpoint http://HOST` (Helm 3 and Helm 4, unchanged)
// finds charts pushed with `helm push`, through Chartroom's Monocular-compatible search.
//
// Each Helm version gets its own server on 127.0.0.1:0 and an isolated HELM_* environment.
// A missing Helm binary is a failure, never a skip: run `node scripts/provision-clients.mjs`.

import t from 'tap';
import { escapeRe, helm, helmFor, helmTry, makeChart, push, type HelmMajor } from '../helpers/helm.js';
import { startServer } from '../helpers/server.js';
import { tempDir } from '../helpers/tmp.js';

const SUBTEST_TIMEOUT = 300_000;

interface HubRow {
  url: string;
  version: string;
  app_version: string;
  description: string;
  repository: { url: string; name: string };
}

for (const major of [3, 4] as HelmMajor[]) {
  t.test(`helm ${major} search hub`, { timeout: SUBTEST_TIMEOUT }, async (t) => {
    const h = helmFor(t, major);
    if (!h) return;
    const server = await startServer(t);
    const work = tempDir(t, 'charts');
    const specs = [
      { name: 'nginx', version: '1.0.0', appVersion: '1.24.0', description: 'NGINX web server', namespace: 'team' },
      { name: 'nginx', version: '1.1.0', appVersion: '1.25.3', description: 'NGINX web server, newer', namespace: 'team' },
      { name: 'ingress-nginx', version: '4.2.0', appVersion: '1.9.0', description: 'Ingress controller built on NGINX', namespace: 'team' },
      { name: 'redis', version: '7.0.1', appVersion: '7.2.4', description: 'In-memory key-value store', namespace: 'data' },
      { name: 'gateway', version: '0.3.0', appVersion: '0.3.0', description: 'Edge gateway in front of nginx', namespace: '' },
    ];
    for (const spec of specs) {
      const chart = await makeChart(h, work, { ...spec, readme: `# ${spec.name}\n` });
      await push(h, server, chart, spec.namespace);
    }

    const args = ['search', 'hub', '--endpoint', server.url, 'nginx', '--output', 'json'];
    const rows = JSON.parse((await helm(h, args)).stdout) as HubRow[];
    t.same(
      rows.map((row) => [row.url, row.version, row.app_version, row.description]),
      [
        [`${server.url}/charts/team/nginx`, '1.1.0', '1.25.3', 'NGINX web server, newer'],
        [`${server.url}/charts/team/ingress-nginx`, '4.2.0', '1.9.0', 'Ingress controller built on NGINX'],
        [`${server.url}/charts/gateway`, '0.3.0', '0.3.0', 'Edge gateway in front of nginx'],
      ],
      'the exact name first, then the name that starts with it, then a description match; each at its latest version',
    );
    t.same(rows[0]?.repository, { url: `${server.url}/chartrepo/team`, name: 'team' }, 'the classic repository it lives in');

    const table = await helm(h, ['search', 'hub', '--endpoint', server.url, 'key-value', '--list-repo-url']);
    t.match(table.stdout, /URL\s+CHART VERSION\s+APP VERSION\s+DESCRIPTION\s+REPO URL/);
    t.match(table.stdout, new RegExp(`${escapeRe(`${server.url}/charts/data/redis`)}\\s+7\\.0\\.1\\s+7\\.2\\.4\\s+In-memory key-value store\\s+${escapeRe(`${server.url}/chartrepo/data`)}`));

    const typo = JSON.parse((await helm(h, ['search', 'hub', '--endpoint', server.url, 'reddis', '-o', 'json'])).stdout) as HubRow[];
    t.same(typo.map((row) => row.url), [`${server.url}/charts/data/redis`], 'a typo still finds the chart');

    const none = await helmTry(h, ['search', 'hub', '--endpoint', server.url, 'postgres']);
    t.equal(none.code, 0);
    t.match(none.stdout, /No results found/);
    const fail = await helmTry(h, ['search', 'hub', '--endpoint', server.url, 'postgres', '--fail-on-no-result']);
    t.not(fail.code, 0, '--fail-on-no-result fails when nothing matches');
    t.notMatch(fail.stderr, /unknown flag/);

    const everything = JSON.parse((await helm(h, ['search', 'hub', '--endpoint', server.url, '-o', 'json'])).stdout) as HubRow[];
    t.equal(everything.length, 4, 'no words lists every chart');
  });
}
