import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { decodeJwt } from 'jose';
import { basic, exampleAuth } from '../helpers/auth.js';
import { errorCode } from '../helpers/oci.js';
import { buildTestApp, tempDataDir } from '../helpers/server.js';
import { metadataEnv } from '../helpers/backends.js';

const bin = fileURLToPath(new URL('../../bin/chartroom.js', import.meta.url));
const cli = (data: string, ...args: string[]) => spawnSync(process.execPath, [bin, ...args, '--data', data], { encoding: 'utf8', env: { ...process.env, ...metadataEnv(data) } });

t.test('robot tokens: created from the CLI, scoped, listed, revoked, stored hashed', async (t) => {
  const data = tempDataDir(t);
  // The server runs over the directory the CLI writes to.
  const { app } = await buildTestApp(t, exampleAuth, data);
  const created = cli(data, 'token', 'create', 'ci', '--scope', 'team/*:pull,push', '--expires-in', '90d');
  t.equal(created.status, 0, created.stderr);
  const secret = created.stdout.trim();
  t.match(secret, /^crt_[A-Za-z0-9_-]{20,}$/);
  t.match(created.stderr, /shown only once/);
  t.equal(cli(data, 'token', 'create', 'ci', '--scope', 'x:pull').status, 1, 'names are unique');
  t.equal(cli(data, 'token', 'create', 'bad', '--scope', 'team/*:write').status, 1, 'unknown action refused');

  const listed = cli(data, 'token', 'list');
  t.match(listed.stdout, /^ci\tactive\tteam\/\*:pull,push\t/);
  t.notMatch(listed.stdout, new RegExp(secret), 'the secret is not shown again');

  const ask = async (authorization: string) =>
    app.inject({ method: 'GET', url: '/auth/token?service=chartroom&scope=repository:team/app:pull,push&scope=repository:secret/db:pull', headers: { authorization } });
  const granted = await ask(basic('ci', secret));
  t.equal(granted.statusCode, 200);
  const claims = decodeJwt(JSON.parse(granted.body).token);
  t.equal(claims.sub, 'robot:ci');
  t.same(claims.access, [{ type: 'repository', name: 'team/app', actions: ['pull', 'push'] }], 'the robot gets its scopes, not the rules');
  t.equal((await ask(basic('ci', 'crt_wrong'))).statusCode, 401);

  const chartApi = await app.inject({ method: 'GET', url: '/api/chartrepo/team/charts', headers: { authorization: basic('ci', secret) } });
  t.equal(chartApi.statusCode, 200, 'Basic with the robot secret works on the other APIs too');

  t.equal(cli(data, 'token', 'revoke', 'ci').status, 0);
  t.match(cli(data, 'token', 'list').stdout, /^ci\trevoked/);
  const { app: fresh } = await buildTestApp(t, exampleAuth, data);
  const revoked = await fresh.inject({ method: 'GET', url: '/auth/token?service=chartroom', headers: { authorization: basic('ci', secret) } });
  t.equal(revoked.statusCode, 401);
  t.equal(errorCode(revoked), 'UNAUTHORIZED');
  t.equal(cli(data, 'token', 'revoke', 'ci').status, 1, 'revoking twice says so');
});
