import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import t, { type Test } from 'tap';
import { ConfigError, loadConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/logger.js';
import { buildServer } from '../../src/server.js';
import type { WebhookEnvelope, WebhookEvent } from '../../src/webhooks/index.js';
import { basic, exampleAuth } from '../helpers/auth.js';
import { chartTgz, helmTypes, pushChart } from '../helpers/charts.js';
import { mediaTypes, pushImage } from '../helpers/oci.js';
import { buildTestApp, tempDataDir } from '../helpers/server.js';

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  raw: string;
  event: WebhookEvent;
}

/** What a receiver answers its n-th request (from 1) on a path: a status, or never. */
type Answer = (n: number, path: string) => number | 'hang';

/** A webhook receiver on 127.0.0.1 that records every request; closed (hanging requests too) when the test ends. */
async function receiver(t: Test, answer: Answer = () => 204) {
  const received: Received[] = [];
  const hanging: ServerResponse[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const path = req.url ?? '';
      const envelope = JSON.parse(raw) as WebhookEnvelope;
      received.push({ path, headers: req.headers, raw, event: envelope.events[0] as WebhookEvent });
      const status = answer(received.filter((r) => r.path === path).length, path);
      if (status === 'hang') hanging.push(res);
      else res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    /** Answers the requests left hanging so far. */
    release: () => {
      for (const res of hanging.splice(0)) res.writeHead(204).end();
    },
    /** Resolves once `count` requests arrived (on `path`, if given). */
    waitFor: (count: number, path?: string) => until(() => received.filter((r) => path === undefined || r.path === path).length >= count, `${count} requests`),
  };
}

/** Polls a condition every 10 ms; throws after 5 s, so that no test waits long. */
async function until(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const end = Date.now() + 5000;
  while (!(await condition())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** One sample of /metrics, 0 when absent. */
async function metric(app: FastifyInstance, sample: string): Promise<number> {
  const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
  const line = text.split('\n').find((l) => l.startsWith(`${sample} `));
  return line === undefined ? 0 : Number(line.slice(sample.length + 1));
}

const delivered = (app: FastifyInstance) => metric(app, 'chartroom_webhook_deliveries_total{outcome="delivered"}');
const failed = (app: FastifyInstance) => metric(app, 'chartroom_webhook_deliveries_total{outcome="failed"}');

/** Small backoff and a short shutdown grace, so that every test stays quick. */
function webhooks(endpoints: Record<string, unknown>[], settings: Record<string, unknown> = {}): Record<string, unknown> {
  return { 'webhooks.endpoints': endpoints, 'webhooks.backoffSeconds': 0.01, 'webhooks.shutdownSeconds': 0.5, ...settings };
}

/** An app whose JSON log lines are kept, for tests about what is logged. */
async function appWithLog(t: Test, overrides: Record<string, unknown>): Promise<{ app: FastifyInstance; lines: string[] }> {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  const config = loadConfig({ overrides: { data: tempDataDir(t), ...overrides } });
  const app = await buildServer(config, { logger: createLogger('trace', sink) });
  t.teardown(() => app.close());
  return { app, lines };
}

t.test('an OCI push sends one push event, POSTed as JSON with the documented fields', async (t) => {
  const hook = await receiver(t);
  const { app } = await buildTestApp(t, webhooks([{ url: `${hook.url}/hook` }]));
  const image = await pushImage(app, 'team/img', 'v1');
  await hook.waitFor(1);
  const [{ path, headers, event }] = hook.received as [Received];
  t.equal(path, '/hook');
  t.equal(headers['content-type'], 'application/json');
  t.equal(headers['user-agent'], `chartroom/${version}`);
  t.equal(headers['x-chartroom-event'], 'push');
  t.equal(headers['x-chartroom-event-id'], event.id);
  t.notOk('x-chartroom-signature' in headers, 'no signature without a secret');
  t.match(event.id, /^[0-9a-f-]{36}$/);
  t.ok(Math.abs(Date.parse(event.timestamp) - Date.now()) < 60_000, 'timestamp is now');
  t.same(event, {
    id: event.id,
    timestamp: event.timestamp,
    action: 'push',
    target: {
      repository: 'team/img',
      tag: 'v1',
      digest: image.digest,
      mediaType: mediaTypes.ociManifest,
      artifactType: mediaTypes.ociConfig,
      size: image.manifest.length,
      url: `http://localhost:80/v2/team/img/manifests/${image.digest}`,
    },
    actor: { kind: 'anonymous' },
    request: { id: event.request.id, host: 'localhost:80' },
  });
  t.ok(event.request.id, 'the request id, as the access log shows it');

  const tgz = chartTgz({ name: 'app', version: '1.2.0' });
  await pushChart(app, 'team/app', tgz, '1.2.0');
  await hook.waitFor(2);
  const chart = (hook.received[1] as Received).event;
  t.equal(chart.target.artifactType, helmTypes.config);
  t.same(chart.target.chart, { name: 'app', version: '1.2.0' }, 'a Helm chart names itself');
  t.equal(chart.target.tag, '1.2.0');
  t.not(chart.id, event.id, 'every event has its own id');
});

t.test('a ChartMuseum upload is a push event by the signed-in user, with the chart', async (t) => {
  const hook = await receiver(t);
  const { app } = await buildTestApp(t, { ...exampleAuth, ...webhooks([{ url: hook.url }]) });
  const tgz = chartTgz({ name: 'app', version: '1.4.0' });
  const res = await app.inject({
    method: 'POST',
    url: '/api/chartrepo/team/charts',
    payload: tgz,
    headers: { authorization: basic('alice'), 'content-type': 'application/octet-stream' },
  });
  t.equal(res.statusCode, 201, res.body);
  await hook.waitFor(1);
  const { event } = hook.received[0] as Received;
  t.equal(event.action, 'push');
  t.equal(event.target.repository, 'team/app');
  t.equal(event.target.tag, '1.4.0');
  t.equal(event.target.artifactType, helmTypes.config);
  t.same(event.target.chart, { name: 'app', version: '1.4.0' });
  t.same(event.actor, { kind: 'user', name: 'alice' });
  const token = JSON.parse(
    (await app.inject({ method: 'GET', url: '/auth/token?service=chartroom&scope=repository:team/app:pull', headers: { authorization: basic('alice') } })).body,
  ) as { token: string };
  const manifest = await app.inject({ method: 'GET', url: '/v2/team/app/manifests/1.4.0', headers: { authorization: `Bearer ${token.token}` } });
  t.equal(event.target.digest, manifest.headers['docker-content-digest'], 'the digest of the artifact the upload became');
});

t.test('deletes: a tag, a manifest by digest, a ChartMuseum chart version', async (t) => {
  const hook = await receiver(t);
  const { app } = await buildTestApp(t, webhooks([{ url: hook.url, events: ['delete'] }]));
  const image = await pushImage(app, 'team/img', 'v1');
  t.equal((await app.inject({ method: 'DELETE', url: '/v2/team/img/manifests/v1' })).statusCode, 202);
  await hook.waitFor(1);
  t.match((hook.received[0] as Received).event, {
    action: 'delete',
    target: { repository: 'team/img', tag: 'v1', digest: image.digest, mediaType: mediaTypes.ociManifest, size: image.manifest.length },
  });

  t.equal((await app.inject({ method: 'DELETE', url: `/v2/team/img/manifests/${image.digest}` })).statusCode, 202);
  await hook.waitFor(2);
  const byDigest = (hook.received[1] as Received).event;
  t.match(byDigest, { action: 'delete', target: { repository: 'team/img', digest: image.digest, artifactType: mediaTypes.ociConfig } });
  t.notOk('tag' in byDigest.target, 'a delete by digest names no tag');

  await pushChart(app, 'team/app', chartTgz({ name: 'app', version: '2.0.0' }), '2.0.0');
  const res = await app.inject({ method: 'DELETE', url: '/api/chartrepo/team/charts/app/2.0.0' });
  t.equal(res.statusCode, 200, res.body);
  await hook.waitFor(3);
  t.match((hook.received[2] as Received).event, { action: 'delete', target: { repository: 'team/app', tag: '2.0.0', chart: { name: 'app', version: '2.0.0' } } });

  t.equal((await app.inject({ method: 'DELETE', url: '/v2/team/img/manifests/v9' })).statusCode, 404);
  await until(async () => (await metric(app, 'chartroom_webhook_deliveries_pending')) === 0, 'nothing pending');
  t.equal(hook.received.length, 3, 'no event for a delete that removed nothing, and none for pushes');
});

t.test('a receiver that fails twice with 500 gets the event on the third attempt', async (t) => {
  const hook = await receiver(t, (n) => (n <= 2 ? 500 : 204));
  const { app } = await buildTestApp(t, webhooks([{ url: hook.url }], { 'webhooks.attempts': 3 }));
  await pushImage(app, 'team/img', 'v1');
  await until(async () => (await delivered(app)) === 1, 'the delivery');
  t.equal(hook.received.length, 3);
  t.equal(new Set(hook.received.map((r) => r.headers['x-chartroom-event-id'])).size, 1, 'the same event each time');
  t.equal(new Set(hook.received.map((r) => r.raw)).size, 1, 'byte for byte');
  t.equal(await failed(app), 0);
});

t.test('other 4xx and 3xx answers are final; 429 is retried until the attempts run out', async (t) => {
  const hook = await receiver(t, (_n, path) => Number(path.slice(1)));
  const statuses = [400, 401, 404, 410, 301, 429];
  const { app } = await buildTestApp(t, webhooks(statuses.map((status) => ({ url: `${hook.url}/${status}` })), { 'webhooks.attempts': 3 }));
  await pushImage(app, 'team/img', 'v1');
  await until(async () => (await failed(app)) === statuses.length, 'every delivery to give up');
  for (const status of statuses) {
    t.equal(hook.received.filter((r) => r.path === `/${status}`).length, status === 429 ? 3 : 1, `${status}`);
  }
  t.equal(await delivered(app), 0);
});

t.test('a receiver that hangs slows neither the push nor the shutdown', async (t) => {
  const hook = await receiver(t, () => 'hang');
  const { app } = await buildTestApp(t, webhooks([{ url: hook.url, timeoutSeconds: 60 }], { 'webhooks.shutdownSeconds': 0.3 }));
  const started = Date.now();
  await pushImage(app, 'team/img', 'v1');
  const res = await app.inject({ method: 'DELETE', url: '/v2/team/img/manifests/v1' });
  t.equal(res.statusCode, 202);
  t.ok(Date.now() - started < 2000, `push and delete answered in ${Date.now() - started} ms`);
  await hook.waitFor(1);
  t.equal(await metric(app, 'chartroom_webhook_deliveries_pending'), 2, 'both deliveries still pending');

  const closing = Date.now();
  await app.close();
  t.ok(Date.now() - closing < 2000, `closed in ${Date.now() - closing} ms despite the hanging receiver`);
});

t.test('on shutdown a delivery waiting out its backoff is attempted at once', async (t) => {
  const hook = await receiver(t, (n) => (n === 1 ? 503 : 204));
  const { app } = await buildTestApp(t, webhooks([{ url: hook.url }], { 'webhooks.backoffSeconds': 30, 'webhooks.shutdownSeconds': 3 }));
  await pushImage(app, 'team/img', 'v1');
  await hook.waitFor(1);
  await until(async () => (await metric(app, 'chartroom_webhook_deliveries_pending')) === 1 && hook.received.length === 1, 'the retry to be scheduled');
  const closing = Date.now();
  await app.close();
  t.equal(hook.received.length, 2, 'the retry went out before the process stopped');
  t.ok(Date.now() - closing < 2000, 'without waiting 30 s for the backoff');
});

t.test('with a secret, X-Chartroom-Signature is the HMAC-SHA256 of the body', async (t) => {
  const hook = await receiver(t);
  const { app } = await buildTestApp(t, webhooks([{ url: hook.url, secret: 'sig-secret' }]));
  await pushImage(app, 'team/img', 'v1');
  await hook.waitFor(1);
  const { headers, raw } = hook.received[0] as Received;
  t.equal(headers['x-chartroom-signature'], `sha256=${createHmac('sha256', 'sig-secret').update(raw).digest('hex')}`);
  t.not(headers['x-chartroom-signature'], `sha256=${createHmac('sha256', 'other').update(raw).digest('hex')}`);
});

t.test('endpoints get only the events and repositories they name', async (t) => {
  const hook = await receiver(t);
  const { app } = await buildTestApp(
    t,
    webhooks([
      { url: `${hook.url}/team-deletes`, repositories: ['team/**'], events: ['delete'] },
      { url: `${hook.url}/other`, repositories: ['other/*'] },
    ]),
  );
  await pushImage(app, 'team/apps/web', 'v1');
  await pushImage(app, 'other/app', 'v1');
  await pushImage(app, 'other/deep/app', 'v1');
  for (const repository of ['team/apps/web', 'other/app', 'other/deep/app']) {
    t.equal((await app.inject({ method: 'DELETE', url: `/v2/${repository}/manifests/v1` })).statusCode, 202);
  }
  await until(async () => (await delivered(app)) === 3, 'three deliveries');
  await until(async () => (await metric(app, 'chartroom_webhook_deliveries_pending')) === 0, 'nothing pending');
  const seen = hook.received.map((r) => `${r.path} ${r.event.action} ${r.event.target.repository}`).sort();
  t.same(seen, ['/other delete other/app', '/other push other/app', '/team-deletes delete team/apps/web']);
});

t.test('a full queue drops its oldest delivery, with a warning', async (t) => {
  const hook = await receiver(t, (n) => (n === 1 ? 'hang' : 204));
  const { app, lines } = await appWithLog(t, webhooks([{ url: hook.url }], { 'webhooks.concurrency': 1, 'webhooks.queueSize': 2 }));
  for (const tag of ['v1', 'v2', 'v3', 'v4', 'v5']) await pushImage(app, 'team/img', tag);
  await hook.waitFor(1);
  t.equal(await metric(app, 'chartroom_webhook_deliveries_total{outcome="dropped"}'), 2);
  hook.release();
  await until(async () => (await delivered(app)) === 3, 'the rest delivered');
  t.same(
    hook.received.map((r) => r.event.target.tag),
    ['v1', 'v4', 'v5'],
    'v1 was in flight; v2 and v3 were the oldest waiting',
  );
  const warnings = lines.map((line) => JSON.parse(line) as { level: number; msg: string; eventId?: string }).filter((l) => l.msg.startsWith('webhook queue full'));
  t.equal(warnings.length, 2);
  t.ok(warnings.every((w) => w.level === 40 && w.eventId), 'warn level, naming the event');
});

t.test('failures are logged without credentials, query, headers or secret', async (t) => {
  const hook = await receiver(t, () => 500);
  const endpoints = [
    { url: `${hook.url.replace('//', '//hookuser:hookpass@')}/basic?token=query-secret`, secret: 'sig-secret' },
    { url: `${hook.url}/bearer`, headers: { Authorization: 'Bearer header-secret', 'X-Extra': 'extra' } },
  ];
  const { app, lines } = await appWithLog(t, webhooks(endpoints, { 'webhooks.attempts': 2 }));
  await pushImage(app, 'team/img', 'v1');
  await until(async () => (await failed(app)) === 2, 'both to give up');
  const byPath = (path: string) => hook.received.find((r) => r.path.startsWith(path)) as Received;
  t.equal(byPath('/basic').headers.authorization, `Basic ${Buffer.from('hookuser:hookpass').toString('base64')}`, 'URL credentials sent as Basic');
  t.equal(byPath('/basic').path, '/basic?token=query-secret', 'the query is sent');
  t.equal(byPath('/bearer').headers.authorization, 'Bearer header-secret');
  t.equal(byPath('/bearer').headers['x-extra'], 'extra');

  const log = lines.join('');
  for (const secret of ['hookuser', 'hookpass', 'query-secret', 'header-secret', 'sig-secret']) t.notOk(log.includes(secret), `not logged: ${secret}`);
  const failures = lines.map((line) => JSON.parse(line) as { msg: string; webhook?: string; reason?: string; attempt?: number }).filter((l) => l.msg.startsWith('webhook delivery failed'));
  t.equal(failures.length, 4, 'each failed attempt is logged');
  t.same(new Set(failures.map((f) => f.webhook)), new Set([`${hook.url}/basic`, `${hook.url}/bearer`]), 'the URL by scheme, host and path');
  t.ok(failures.every((f) => f.reason === 'HTTP 500'));
});

t.test('an unreachable receiver is retried, then given up', async (t) => {
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const { port } = closed.address() as AddressInfo;
  await new Promise((resolve) => closed.close(resolve));
  const { app, lines } = await appWithLog(t, webhooks([{ url: `http://127.0.0.1:${port}/hook` }], { 'webhooks.attempts': 2 }));
  await pushImage(app, 'team/img', 'v1');
  await until(async () => (await failed(app)) === 1, 'the delivery to give up');
  const failures = lines.map((line) => JSON.parse(line) as { msg: string; reason?: string }).filter((l) => l.msg.startsWith('webhook delivery failed'));
  t.same(
    failures.map((f) => [f.msg, f.reason]),
    [
      ['webhook delivery failed; retrying', 'ECONNREFUSED'],
      ['webhook delivery failed; giving up', 'ECONNREFUSED'],
    ],
  );
});

t.test('config: defaults, and a clear error for a bad endpoint', async (t) => {
  const config = loadConfig({ overrides: { 'webhooks.endpoints': [{ url: 'https://ci.example.com/hook' }] } });
  t.match(config.webhooks, { attempts: 5, backoffSeconds: 1, queueSize: 1000, concurrency: 4, shutdownSeconds: 5 });
  t.same(config.webhooks.endpoints[0], { url: 'https://ci.example.com/hook', events: ['push', 'delete'], repositories: ['**'], timeoutSeconds: 10 });
  t.same(loadConfig().webhooks.endpoints, [], 'none by default');

  const bad = (endpoint: Record<string, unknown>) => () => loadConfig({ overrides: { 'webhooks.endpoints': [{ url: 'https://ok.example.com/' }, endpoint] } });
  for (const url of ['ftp://user:secret@example.com/hook', 'not a url', 'http://']) {
    t.throws(bad({ url }), { name: 'ConfigError', message: "invalid config: 'webhooks.endpoints.1.url' must be an http:// or https:// URL" }, url);
  }
  try {
    bad({ url: 'ftp://user:secret@example.com/' })();
    t.fail('accepted');
  } catch (err) {
    t.ok(err instanceof ConfigError && !err.message.includes('secret'), 'the URL is not repeated in the message');
  }
  t.throws(bad({ url: 'https://x.example.com/', events: ['pull'] }), { message: /'webhooks.endpoints.1.events.0' must be one of push, delete/ });
  t.throws(bad({ url: 'https://x.example.com/', headers: { 'Bad Name': 'x' } }), { message: /webhooks.endpoints.1.headers/ });
  t.throws(bad({ url: 'https://x.example.com/', headers: { 'X-Ok': 'a\r\nInjected: b' } }), { message: /webhooks.endpoints.1.headers/ });
  t.throws(bad({ url: 'https://x.example.com/', hmm: true }), { message: /unknown field 'webhooks.endpoints.1.hmm'/ });
});
