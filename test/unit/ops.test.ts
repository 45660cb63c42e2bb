import { rmSync } from 'node:fs';
import t from 'tap';
import { chartTgz, pushChart } from '../helpers/charts.js';
import { buildTestApp } from '../helpers/server.js';

/** Prometheus text format → sample name with labels → value. */
function parseMetrics(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{.*\})?) (\S+)$/.exec(line);
    if (!match) throw new Error(`not a sample line: ${line}`);
    samples.set(match[1] as string, Number(match[2]));
  }
  return samples;
}

t.test('healthz and readyz', async (t) => {
  const { app, dataDir } = await buildTestApp(t);
  const health = await app.inject({ method: 'GET', url: '/healthz' });
  t.equal(health.statusCode, 200);
  t.same(JSON.parse(health.body), { status: 'ok' });
  const ready = await app.inject({ method: 'GET', url: '/readyz' });
  t.equal(ready.statusCode, 200);
  t.same(JSON.parse(ready.body), { status: 'ready', checks: { database: 'ok', dataDir: 'ok' } });

  rmSync(dataDir, { recursive: true, force: true });
  const gone = await app.inject({ method: 'GET', url: '/readyz' });
  t.equal(gone.statusCode, 503, 'a data directory that takes no new file is not ready');
  t.same(JSON.parse(gone.body), { status: 'not ready', checks: { database: 'ok', dataDir: 'failing' } });
  t.notMatch(gone.body, new RegExp(dataDir), 'no path in the answer');
  t.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200, 'still alive');
});

t.test('metrics: requests, latency, bytes, store counts, process', async (t) => {
  const { app } = await buildTestApp(t);
  const tgz = chartTgz({ name: 'app', version: '1.0.0' });
  await pushChart(app, 'team/app', tgz, '1.0.0');
  for (let i = 0; i < 3; i++) t.equal((await app.inject({ method: 'GET', url: '/v2/team/app/manifests/1.0.0' })).statusCode, 200);
  t.equal((await app.inject({ method: 'GET', url: '/v2/team/app/manifests/9.9.9' })).statusCode, 404);

  const res = await app.inject({ method: 'GET', url: '/metrics' });
  t.equal(res.statusCode, 200);
  t.match(res.headers['content-type'], /^text\/plain; version=0\.0\.4/);
  const samples = parseMetrics(res.body);
  const manifests = '/v2/<name>/manifests/<reference>';
  t.equal(samples.get(`chartroom_http_requests_total{method="GET",route="${manifests}",status="200"}`), 3);
  t.equal(samples.get(`chartroom_http_requests_total{method="GET",route="${manifests}",status="404"}`), 1);
  t.equal(samples.get(`chartroom_http_requests_total{method="PUT",route="${manifests}",status="201"}`), 1);
  t.equal(samples.get(`chartroom_http_request_duration_seconds_count{method="GET",route="${manifests}"}`), 4);
  t.ok((samples.get(`chartroom_http_request_duration_seconds_bucket{le="+Inf",method="GET",route="${manifests}"}`) ?? 0) === 4, 'histogram buckets');
  t.ok((samples.get(`chartroom_http_received_bytes_total{route="/v2/<name>/blobs/uploads/<id>"}`) ?? 0) >= tgz.length, 'bytes in');
  t.ok((samples.get(`chartroom_http_sent_bytes_total{route="${manifests}"}`) ?? 0) > 0, 'bytes out');
  t.equal(samples.get('chartroom_repositories'), 1);
  t.equal(samples.get('chartroom_charts'), 1);
  t.equal(samples.get('chartroom_chart_versions'), 1);
  t.equal(samples.get('chartroom_blobs'), 2, 'config and chart layer');
  t.ok((samples.get('chartroom_blob_bytes') ?? 0) > tgz.length);
  t.equal(samples.get('chartroom_uploads_in_progress'), 0);
  t.ok(samples.has('chartroom_process_resident_memory_bytes'), 'process metrics');
  t.ok(samples.has('chartroom_nodejs_eventloop_lag_seconds'), 'event loop lag');
});

t.test('metrics and health need no credentials when auth is on', async (t) => {
  const { app } = await buildTestApp(t, { 'auth.enabled': true });
  for (const url of ['/metrics', '/healthz', '/readyz']) t.equal((await app.inject({ method: 'GET', url })).statusCode, 200, url);
});


t.test('behind a trusted proxy, absolute URLs come from X-Forwarded-Proto and -Host', async (t) => {
  const forwarded = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'charts.example.com', 'x-forwarded-for': '203.0.113.9' };
  for (const [trustProxy, expectedBase] of [['127.0.0.1', 'https://charts.example.com'], ['', 'http://localhost:80']] as const) {
    const { app } = await buildTestApp(t, { trustProxy, 'auth.enabled': true, 'auth.rules': [{ repository: '**', pull: ['anonymous'] }] });
    const challenge = await app.inject({ method: 'GET', url: '/v2/team/app/manifests/1.0.0', headers: forwarded });
    t.equal(challenge.statusCode, 401);
    t.match(challenge.headers['www-authenticate'], new RegExp(`^Bearer realm="${expectedBase}/auth/token"`), `trustProxy '${trustProxy}'`);
  }
  const { app } = await buildTestApp(t, { trustProxy: '127.0.0.1' });
  await pushChart(app, 'team/app', chartTgz({ name: 'app', version: '1.0.0' }), '1.0.0');
  const hub = JSON.parse((await app.inject({ method: 'GET', url: '/api/chartsvc/v1/charts/search?q=app', headers: forwarded })).body);
  t.equal(hub.data[0].artifactHub.packageUrl, 'https://charts.example.com/charts/team/app');
  const index = await app.inject({ method: 'GET', url: '/chartrepo/team/index.yaml', headers: forwarded });
  t.equal(index.statusCode, 200);
});
