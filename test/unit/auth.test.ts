import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, generateKeyPair, importPKCS8, jwtVerify, SignJWT } from 'jose';
import type { FastifyInstance } from 'fastify';
import { basic, exampleAuth } from '../helpers/auth.js';
import { chartTgz, pushChart } from '../helpers/charts.js';
import { errorCode, mediaTypes, sha256 } from '../helpers/oci.js';
import { buildTestApp } from '../helpers/server.js';

async function token(app: FastifyInstance, scope: string[], authorization?: string): Promise<string> {
  const query = new URLSearchParams([['service', 'chartroom'], ...scope.map((s) => ['scope', s] as [string, string])]);
  const res = await app.inject({ method: 'GET', url: `/auth/token?${query}`, headers: authorization ? { authorization } : {} });
  if (res.statusCode !== 200) throw new Error(`token: ${res.statusCode} ${res.body}`);
  return JSON.parse(res.body).token as string;
}

const bearer = (value: string) => ({ authorization: `Bearer ${value}` });

async function push(app: FastifyInstance, repository: string, tag: string, auth: Record<string, string>) {
  const config = Buffer.from(`{"for":"${repository}:${tag}"}`);
  const blob = await app.inject({ method: 'POST', url: `/v2/${repository}/blobs/uploads/?digest=${sha256(config)}`, payload: config, headers: auth });
  const manifest = JSON.stringify({ schemaVersion: 2, config: { mediaType: mediaTypes.ociConfig, digest: sha256(config), size: config.length }, layers: [] });
  const put = await app.inject({ method: 'PUT', url: `/v2/${repository}/manifests/${tag}`, payload: manifest, headers: { ...auth, 'content-type': mediaTypes.ociManifest } });
  return { blob, put };
}

t.test('challenges name the realm, service and exactly the scope needed', async (t) => {
  const { app } = await buildTestApp(t, exampleAuth);
  const base = await app.inject({ method: 'GET', url: '/v2/' });
  t.equal(base.statusCode, 401);
  t.equal(errorCode(base), 'UNAUTHORIZED');
  t.equal(base.headers['www-authenticate'], 'Bearer realm="http://localhost:80/auth/token",service="chartroom"');

  const tags = await app.inject({ method: 'GET', url: '/v2/team/app/tags/list' });
  t.equal(tags.headers['www-authenticate'], 'Bearer realm="http://localhost:80/auth/token",service="chartroom",scope="repository:team/app:pull"');
  const upload = await app.inject({ method: 'POST', url: `/v2/team/app/blobs/uploads/?mount=${sha256('x')}&from=public/web` });
  t.match(upload.headers['www-authenticate'], /scope="repository:team\/app:pull,push repository:public\/web:pull"$/, 'both repositories of a mount');
  const del = await app.inject({ method: 'DELETE', url: `/v2/team/app/manifests/${sha256('x')}` });
  t.match(del.headers['www-authenticate'], /scope="repository:team\/app:delete"/);
  const catalog = await app.inject({ method: 'GET', url: '/v2/_catalog' });
  t.match(catalog.headers['www-authenticate'], /scope="registry:catalog:\*"/);
});

t.test('the token service grants the overlap of asked and allowed', async (t) => {
  const { app, dataDir } = await buildTestApp(t, exampleAuth);
  const res = await app.inject({
    method: 'GET',
    url: '/auth/token?service=chartroom&scope=repository:team/app:pull,push&scope=repository:secret/db:pull',
    headers: { authorization: basic('alice') },
  });
  t.equal(res.statusCode, 200);
  const body = JSON.parse(res.body);
  t.equal(body.token, body.access_token);
  t.equal(body.expires_in, 60);
  t.ok(Date.parse(body.issued_at));
  const header = decodeProtectedHeader(body.token);
  t.equal(header.alg, 'ES256');
  t.ok(header.kid);
  const claims = decodeJwt(body.token);
  t.match(claims, { iss: 'chartroom', sub: 'alice', aud: 'chartroom' });
  for (const claim of ['exp', 'nbf', 'iat', 'jti']) t.ok(claims[claim], claim);
  t.same(claims.access, [{ type: 'repository', name: 'team/app', actions: ['pull', 'push'] }], 'secret/db is left out, not an error');

  const jwks = JSON.parse((await app.inject({ method: 'GET', url: '/auth/jwks.json' })).body);
  t.equal(jwks.keys[0].kid, header.kid);
  const { payload } = await jwtVerify(body.token, createLocalJWKSet(jwks), { issuer: 'chartroom', audience: 'chartroom' });
  t.equal(payload.sub, 'alice', 'another service can verify tokens with the JWKS');
  t.match(readFileSync(join(dataDir, 'auth', 'signing-key.pem'), 'utf8'), /BEGIN PRIVATE KEY/, 'key kept in the data dir');

  const paul = decodeJwt(await token(app, ['repository:team/app:pull,push'], basic('paul')));
  t.same(paul.access, [{ type: 'repository', name: 'team/app', actions: ['pull'] }], 'asking for more is no error');
  const anon = decodeJwt(await token(app, ['repository:public/web:pull', 'repository:team/app:pull']));
  t.same(anon.access, [{ type: 'repository', name: 'public/web', actions: ['pull'] }]);
  t.equal(anon.sub, '');
  const fresh = decodeJwt(await token(app, ['repository:team/new-thing:pull,push'], basic('ci-bot')));
  t.same(fresh.access, [{ type: 'repository', name: 'team/new-thing', actions: ['pull', 'push'] }], 'push to a repository that does not exist yet');

  const wrong = await app.inject({ method: 'GET', url: '/auth/token?service=chartroom', headers: { authorization: basic('alice', 'nope') } });
  t.equal(wrong.statusCode, 401);
  const otherService = await app.inject({ method: 'GET', url: '/auth/token?service=elsewhere', headers: { authorization: basic('alice') } });
  t.equal(otherService.statusCode, 400);
});

t.test('OAuth2 POST: password and refresh_token grants; identity tokens on GET', async (t) => {
  const { app } = await buildTestApp(t, exampleAuth);
  const form = (fields: Record<string, string>) => ({
    method: 'POST' as const,
    url: '/auth/token',
    payload: new URLSearchParams(fields).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  const first = await app.inject(form({ grant_type: 'password', username: 'alice', password: 'ecila-secret', service: 'chartroom', client_id: 'helm', scope: 'repository:team/app:pull repository:team/app:push' }));
  t.equal(first.statusCode, 200, first.body);
  const body = JSON.parse(first.body);
  t.ok(body.refresh_token);
  t.same(decodeJwt(body.access_token).access, [{ type: 'repository', name: 'team/app', actions: ['pull'] }, { type: 'repository', name: 'team/app', actions: ['push'] }]);

  const refreshed = await app.inject(form({ grant_type: 'refresh_token', refresh_token: body.refresh_token, service: 'chartroom', scope: 'repository:team/app:pull' }));
  t.equal(refreshed.statusCode, 200);
  t.equal(decodeJwt(JSON.parse(refreshed.body).access_token).sub, 'alice');

  const identity = await app.inject({
    method: 'GET',
    url: '/auth/token?service=chartroom&scope=repository:team/app:pull',
    headers: { authorization: `Basic ${Buffer.from(`:${body.refresh_token}`).toString('base64')}` },
  });
  t.equal(identity.statusCode, 200, 'an empty user name with a refresh token as password');
  t.equal(decodeJwt(JSON.parse(identity.body).token).sub, 'alice');

  t.equal((await app.inject(form({ grant_type: 'refresh_token', refresh_token: body.access_token }))).statusCode, 401, 'an access token is not a refresh token');
  t.equal((await app.inject(form({ grant_type: 'client_credentials' }))).statusCode, 400);
  t.equal((await app.inject(form({ grant_type: 'password', username: 'alice', password: 'x' }))).statusCode, 401);
});

t.test('tokens are checked: scope, signature, lifetime, audience, issuer, key', async (t) => {
  const { app, dataDir } = await buildTestApp(t, exampleAuth);
  const alice = await token(app, ['repository:team/app:pull,push'], basic('alice'));
  const pushed = await push(app, 'team/app', 'v1', bearer(alice));
  t.equal(pushed.put.statusCode, 201, 'push with the right token');
  t.equal((await app.inject({ method: 'GET', url: '/v2/', headers: bearer(alice) })).statusCode, 200);

  const paul = await token(app, ['repository:team/app:pull,push'], basic('paul'));
  t.equal((await app.inject({ method: 'GET', url: '/v2/team/app/manifests/v1', headers: bearer(paul) })).statusCode, 200);
  const denied = await push(app, 'team/app', 'v2', bearer(paul));
  t.equal(denied.put.statusCode, 403);
  t.equal(errorCode(denied.put), 'DENIED');
  const otherRepo = await app.inject({ method: 'GET', url: '/v2/public/web/tags/list', headers: bearer(alice) });
  t.equal(otherRepo.statusCode, 403, 'a token covers only the repositories it names');

  const key = await importPKCS8(readFileSync(join(dataDir, 'auth', 'signing-key.pem'), 'utf8'), 'ES256');
  const kid = decodeProtectedHeader(alice).kid as string;
  const forge = (claims: Record<string, unknown>, options: { key?: CryptoKey; kid?: string; iss?: string; aud?: string; exp?: number } = {}) =>
    new SignJWT({ access: [{ type: 'repository', name: 'team/app', actions: ['pull', 'push'] }], ...claims })
      .setProtectedHeader({ alg: 'ES256', kid: options.kid ?? kid })
      .setIssuer(options.iss ?? 'chartroom')
      .setAudience(options.aud ?? 'chartroom')
      .setSubject('alice')
      .setIssuedAt()
      .setNotBefore(claims.nbf !== undefined ? (claims.nbf as number) : '0s')
      .setExpirationTime(options.exp ?? '1m')
      .sign(options.key ?? key);
  const stranger = (await generateKeyPair('ES256')).privateKey;
  const now = Math.floor(Date.now() / 1000);
  const [head, payload, signature] = alice.split('.') as [string, string, string];
  const tampered = `${head}.${Buffer.from(JSON.stringify({ ...decodeJwt(alice), sub: 'root' })).toString('base64url')}.${signature}`;
  const none = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${payload}.`;
  const bad: [string, string][] = [
    ['tampered', tampered],
    ['alg none', none],
    ['expired', await forge({}, { exp: now - 10 })],
    ['not yet valid', await forge({ nbf: now + 600 })],
    ['wrong audience', await forge({}, { aud: 'other' })],
    ['wrong issuer', await forge({}, { iss: 'other' })],
    ['unknown kid', await forge({}, { kid: 'nope' })],
    ['foreign key', await forge({}, { key: stranger })],
    ['garbage', 'not.a.jwt'],
  ];
  t.equal((await app.inject({ method: 'GET', url: '/v2/team/app/tags/list', headers: bearer(await forge({})) })).statusCode, 200, 'the forge itself makes valid tokens');
  for (const [what, value] of bad) {
    const res = await app.inject({ method: 'GET', url: '/v2/team/app/tags/list', headers: bearer(value) });
    t.equal(res.statusCode, 401, what);
    t.equal(errorCode(res), 'UNAUTHORIZED', what);
  }
  for (const header of ['Bearer', 'Basic !!!', 'Basic ' + Buffer.from('alice:ecila-secret').toString('base64'), 'Negotiate abc', 'Bearer a b c']) {
    const res = await app.inject({ method: 'GET', url: '/v2/team/app/tags/list', headers: { authorization: header } });
    t.equal(res.statusCode, 401, `Authorization: ${header.slice(0, 20)}`);
  }
});

t.test('the catalog shows only what the caller may pull', async (t) => {
  const { app } = await buildTestApp(t, exampleAuth);
  const root = await token(app, ['repository:team/app:pull,push', 'repository:secret/db:pull,push', 'repository:public/web:pull,push'], basic('root'));
  for (const repository of ['team/app', 'secret/db', 'public/web']) t.equal((await push(app, repository, 'v1', bearer(root))).put.statusCode, 201);
  const list = async (user: string) =>
    JSON.parse((await app.inject({ method: 'GET', url: '/v2/_catalog', headers: bearer(await token(app, ['registry:catalog:*'], basic(user))) })).body).repositories;
  t.same(await list('paul'), ['public/web', 'team/app']);
  t.same(await list('olga'), ['public/web', 'secret/db', 'team/app']);
  const anonymous = await app.inject({ method: 'GET', url: '/v2/_catalog', headers: bearer(await token(app, ['registry:catalog:*'])) });
  t.equal(anonymous.statusCode, 401, 'no catalog for anonymous callers: they are asked to sign in');
});

t.test('Basic auth on the classic repository, ChartMuseum and JSON APIs', async (t) => {
  const { app } = await buildTestApp(t, exampleAuth);
  const root = await token(app, ['repository:team/app:pull,push', 'repository:secret/db:pull,push', 'repository:public/web:pull,push'], basic('root'));
  const rootAuth = bearer(root);
  const pushAs = async (repository: string) => {
    const name = repository.split('/').pop() as string;
    const tgz = chartTgz({ name, version: '1.0.0' });
    const config = Buffer.from('{}');
    for (const blob of [config, tgz]) await app.inject({ method: 'POST', url: `/v2/${repository}/blobs/uploads/?digest=${sha256(blob)}`, payload: blob, headers: rootAuth });
    const manifest = JSON.stringify({
      schemaVersion: 2,
      config: { mediaType: 'application/vnd.cncf.helm.config.v1+json', digest: sha256(config), size: 2 },
      layers: [{ mediaType: 'application/vnd.cncf.helm.chart.content.v1.tar+gzip', digest: sha256(tgz), size: tgz.length }],
    });
    const res = await app.inject({ method: 'PUT', url: `/v2/${repository}/manifests/1.0.0`, payload: manifest, headers: { ...rootAuth, 'content-type': mediaTypes.ociManifest } });
    t.equal(res.statusCode, 201, `push ${repository}`);
  };
  for (const repository of ['team/app', 'secret/db', 'public/web']) await pushAs(repository);

  const anonTeam = await app.inject({ method: 'GET', url: '/chartrepo/team/index.yaml' });
  t.equal(anonTeam.statusCode, 401);
  t.equal(anonTeam.headers['www-authenticate'], 'Basic realm="chartroom"');
  t.equal((await app.inject({ method: 'GET', url: '/chartrepo/public/index.yaml' })).statusCode, 200, 'anonymous pull where allowed');
  const paulIndex = await app.inject({ method: 'GET', url: '/chartrepo/team/index.yaml', headers: { authorization: basic('paul') } });
  t.equal(paulIndex.statusCode, 200);
  t.match(paulIndex.body, /"app":/);
  const paulSecret = await app.inject({ method: 'GET', url: '/chartrepo/secret/index.yaml', headers: { authorization: basic('paul') } });
  t.notMatch(paulSecret.body, /"db":/, 'a chart paul may not pull is not listed');
  t.equal((await app.inject({ method: 'GET', url: '/chartrepo/secret/charts/db-1.0.0.tgz', headers: { authorization: basic('paul') } })).statusCode, 404);
  t.equal((await app.inject({ method: 'GET', url: '/chartrepo/secret/charts/db-1.0.0.tgz', headers: { authorization: basic('olga') } })).statusCode, 200);
  t.equal((await app.inject({ method: 'GET', url: '/chartrepo/secret/charts/db-1.0.0.tgz' })).statusCode, 401);
  t.equal((await app.inject({ method: 'GET', url: '/chartrepo/secret/charts/nothing-1.0.0.tgz' })).statusCode, 401, 'anonymous: the same answer whether or not it exists');

  const upload = (authorization?: string) =>
    app.inject({ method: 'POST', url: '/api/chartrepo/team/charts', payload: chartTgz({ name: 'app', version: '2.0.0' }), headers: authorization ? { authorization } : {} });
  t.equal((await upload()).statusCode, 401);
  const paulUpload = await upload(basic('paul'));
  t.equal(paulUpload.statusCode, 403);
  t.match(JSON.parse(paulUpload.body), { error: /no push access/ });
  t.equal((await upload(basic('ci-bot'))).statusCode, 201);
  t.equal((await upload(basic('ci-bot', 'wrong'))).statusCode, 401);

  const charts = async (authorization?: string) =>
    JSON.parse((await app.inject({ method: 'GET', url: '/api/v1/charts', headers: authorization ? { authorization } : {} })).body).charts.map((c: { repository: string }) => c.repository);
  t.same(await charts(), ['public/web']);
  t.same(await charts(basic('paul')), ['team/app', 'public/web']);
  t.same(await charts(basic('olga')), ['team/app', 'secret/db', 'public/web']);
  t.equal((await app.inject({ method: 'GET', url: '/api/v1/charts/secret/db', headers: { authorization: basic('paul') } })).statusCode, 403);
});

t.test('failed logins are rate-limited per client', async (t) => {
  const { app } = await buildTestApp(t, { ...exampleAuth, 'auth.failedLoginsPerMinute': 3 });
  const attempt = (password: string) => app.inject({ method: 'GET', url: '/auth/token?service=chartroom', headers: { authorization: basic('alice', password) } });
  for (let i = 0; i < 3; i++) t.equal((await attempt('wrong')).statusCode, 401);
  const limited = await attempt('ecila-secret');
  t.equal(limited.statusCode, 429);
  t.equal(errorCode(limited), 'TOOMANYREQUESTS');
});

t.test('every route declares its access', async (t) => {
  for (const overrides of [{}, exampleAuth]) {
    const { app } = await buildTestApp(t, overrides);
    await app.ready();
    t.same(app.routesWithoutAccess, [], `auth ${'auth.enabled' in overrides ? 'on' : 'off'}`);
  }
});

t.test('auth off: no challenge anywhere', async (t) => {
  const { app } = await buildTestApp(t);
  t.equal((await app.inject({ method: 'GET', url: '/v2/' })).statusCode, 200);
  t.equal((await app.inject({ method: 'GET', url: '/auth/token' })).statusCode, 404);
});
