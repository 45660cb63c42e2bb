import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import t from 'tap';
import { basic, exampleAuth, passwordOf } from '../helpers/auth.js';
import { chartTgz, pushChart } from '../helpers/charts.js';
import { errorCode } from '../helpers/oci.js';
import { buildTestApp, tempDataDir } from '../helpers/server.js';
import { tempDir } from '../helpers/tmp.js';

const pages = ['/', '/search?q=nginx', '/namespaces/team', '/namespaces/-', '/charts/team/app', '/charts/app?tab=values&version=1.0.0'];

/** A stand-in for `dist/web`: what Vite writes, small. */
function builtUi(t: Parameters<typeof tempDir>[0]): string {
  const root = tempDir(t, 'web');
  mkdirSync(join(root, 'assets'));
  writeFileSync(join(root, 'index.html'), `<!doctype html><title>Chartroom</title><script type="module" src="/ui/assets/index-AbC123.js"></script>${'<!-- padding -->'.repeat(64)}`);
  writeFileSync(join(root, 'assets', 'index-AbC123.js'), `console.log(${JSON.stringify('x'.repeat(2000))});`);
  writeFileSync(join(root, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  return root;
}

t.test('without a built UI: a page that says so, and every API still works', async (t) => {
  const { app } = await buildTestApp(t, {}, undefined, { webRoot: tempDir(t, 'empty') });
  await pushChart(app, 'team/app', chartTgz({ name: 'app', version: '1.0.0' }), '1.0.0');
  for (const url of pages) {
    const res = await app.inject({ method: 'GET', url });
    t.equal(res.statusCode, 503, url);
    t.match(res.headers['content-type'], /^text\/html/, url);
    t.match(res.body, /web UI has not been built[\s\S]*npm run build/, `${url} says how to build it`);
  }
  t.equal((await app.inject({ method: 'GET', url: '/ui/assets/index-AbC123.js' })).statusCode, 404);
  t.equal((await app.inject({ method: 'GET', url: '/api/v1/charts/team/app' })).statusCode, 200, 'the JSON API');
  t.equal((await app.inject({ method: 'GET', url: '/v2/team/app/tags/list' })).statusCode, 200, 'the OCI API');
  t.equal((await app.inject({ method: 'GET', url: '/chartrepo/team/index.yaml' })).statusCode, 200, 'the classic repository');
});

t.test('the built UI: pages, files, caching, compression and the content security policy', async (t) => {
  const { app } = await buildTestApp(t, {}, undefined, { webRoot: builtUi(t) });
  for (const url of pages) {
    const res = await app.inject({ method: 'GET', url });
    t.equal(res.statusCode, 200, url);
    t.match(res.body, /<title>Chartroom<\/title>/, `${url} is index.html`);
    t.match(res.headers['content-security-policy'], /script-src 'self'(;|$)/, `${url}: no inline script runs`);
    t.equal(res.headers['cache-control'], 'no-cache', `${url}: checked again on every load`);
  }
  const page = await app.inject({ method: 'GET', url: '/charts/team/app' });
  const again = await app.inject({ method: 'GET', url: '/charts/team/app', headers: { 'if-none-match': String(page.headers.etag) } });
  t.equal(again.statusCode, 304, 'an unchanged page is not sent again');

  const script = await app.inject({ method: 'GET', url: '/ui/assets/index-AbC123.js', headers: { 'accept-encoding': 'gzip, br' } });
  t.equal(script.statusCode, 200);
  t.match(script.headers['content-type'], /^text\/javascript/);
  t.equal(script.headers['cache-control'], 'public, max-age=31536000, immutable', 'hashed names are cached for good');
  t.equal(script.headers['content-encoding'], 'gzip');
  t.match(gunzipSync(script.rawPayload).toString(), /^console\.log/);
  const plain = await app.inject({ method: 'GET', url: '/ui/assets/index-AbC123.js' });
  t.notOk(plain.headers['content-encoding'], 'not compressed for a client that does not ask');
  t.equal((await app.inject({ method: 'GET', url: '/ui/favicon.svg' })).headers['cache-control'], 'no-cache', 'unhashed files are checked again');

  const missing = await app.inject({ method: 'GET', url: '/ui/assets/nothing.js' });
  t.equal(missing.statusCode, 404);
  t.equal(errorCode(missing), 'NOT_FOUND');
  t.equal((await app.inject({ method: 'GET', url: '/nowhere' })).statusCode, 404, 'other paths are not the UI');
  t.equal((await app.inject({ method: 'GET', url: '/v2/' })).statusCode, 200, 'the OCI API is untouched');
  t.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
});

t.test('/api/v1/me says whether to offer a sign-in, and who is signed in', async (t) => {
  const off = await buildTestApp(t);
  t.same(JSON.parse((await off.app.inject({ method: 'GET', url: '/api/v1/me' })).body), { auth: false, user: null });
  const { app } = await buildTestApp(t, exampleAuth);
  t.same(JSON.parse((await app.inject({ method: 'GET', url: '/api/v1/me' })).body), { auth: true, user: null });
  const me = await app.inject({ method: 'GET', url: '/api/v1/me', headers: { authorization: basic('alice') } });
  t.same(JSON.parse(me.body), { auth: true, user: 'alice' });
});

t.test("the UI's sign-in: a password once, then scoped tokens from the refresh token; no browser password dialog", async (t) => {
  const dataDir = tempDataDir(t);
  const { app: open } = await buildTestApp(t, {}, dataDir);
  await pushChart(open, 'secret/vault', chartTgz({ name: 'vault', version: '1.0.0' }), '1.0.0');
  await pushChart(open, 'public/site', chartTgz({ name: 'site', version: '1.0.0' }), '1.0.0');
  await open.close();
  const { app } = await buildTestApp(t, exampleAuth, dataDir);
  const ui = { 'x-requested-with': 'XMLHttpRequest' };
  const form = { 'content-type': 'application/x-www-form-urlencoded', ...ui };

  const anonymous = await app.inject({ method: 'GET', url: '/api/v1/charts/secret/vault', headers: ui });
  t.equal(anonymous.statusCode, 401);
  t.notOk(anonymous.headers['www-authenticate'], "the UI's requests get no Basic challenge (a browser would open its own dialog)");
  const byCurl = await app.inject({ method: 'GET', url: '/api/v1/charts/secret/vault' });
  t.match(byCurl.headers['www-authenticate'], /^Basic /, 'other clients still do');
  const wrong = await app.inject({ method: 'POST', url: '/auth/token', headers: form, payload: 'grant_type=password&username=olga&password=nope' });
  t.equal(wrong.statusCode, 401);
  t.notOk(wrong.headers['www-authenticate'], 'nor does a wrong password at sign-in');

  const signIn = await app.inject({ method: 'POST', url: '/auth/token', headers: form, payload: `grant_type=password&username=olga&password=${passwordOf('olga')}` });
  t.equal(signIn.statusCode, 200);
  const { access_token: listToken, refresh_token: refresh } = JSON.parse(signIn.body) as { access_token: string; refresh_token: string };
  const bearer = (token: string) => ({ authorization: `Bearer ${token}`, ...ui });
  const listed = JSON.parse((await app.inject({ method: 'GET', url: '/api/v1/charts', headers: bearer(listToken) })).body);
  t.same(listed.charts.map((c: { repository: string }) => c.repository).sort(), ['public/site', 'secret/vault'], 'lists show what the user may pull');
  t.same(JSON.parse((await app.inject({ method: 'GET', url: '/api/v1/me', headers: bearer(listToken) })).body), { auth: true, user: 'olga' });

  const scoped = await app.inject({ method: 'POST', url: '/auth/token', headers: form, payload: `grant_type=refresh_token&refresh_token=${refresh}&scope=repository:secret/vault:pull` });
  const chartToken = (JSON.parse(scoped.body) as { access_token: string }).access_token;
  t.equal((await app.inject({ method: 'GET', url: '/api/v1/charts/secret/vault', headers: bearer(chartToken) })).statusCode, 200, "a chart's page with its scoped token");
  t.equal((await app.inject({ method: 'GET', url: '/api/v1/charts/secret/vault/versions/1.0.0/values', headers: bearer(chartToken) })).statusCode, 200);

  const paul = JSON.parse((await app.inject({ method: 'POST', url: '/auth/token', headers: form, payload: `grant_type=password&username=paul&password=${passwordOf('paul')}` })).body) as { refresh_token: string };
  const paulScoped = JSON.parse(
    (await app.inject({ method: 'POST', url: '/auth/token', headers: form, payload: `grant_type=refresh_token&refresh_token=${paul.refresh_token}&scope=repository:secret/vault:pull` })).body,
  ) as { access_token: string };
  const denied = await app.inject({ method: 'GET', url: '/api/v1/charts/secret/vault', headers: bearer(paulScoped.access_token) });
  t.equal(denied.statusCode, 403, 'a user the rules keep out is refused, with or without asking for the scope');
});
