import { Writable } from 'node:stream';
import t from 'tap';
import { loadConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/logger.js';
import { buildServer } from '../../src/server.js';
import { basic, exampleAuth, passwordOf } from '../helpers/auth.js';
import { tempDataDir } from '../helpers/server.js';

t.test('no password, token or secret appears in any log line', async (t) => {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  const config = loadConfig({ overrides: { data: tempDataDir(t), ...exampleAuth, logLevel: 'trace' } });
  const app = await buildServer(config, { logger: createLogger('trace', sink) });
  t.teardown(() => app.close());

  const token = JSON.parse(
    (await app.inject({ method: 'GET', url: '/auth/token?service=chartroom&scope=repository:team/app:pull,push&offline_token=true', headers: { authorization: basic('alice') } })).body,
  );
  const form = new URLSearchParams({ grant_type: 'password', username: 'olga', password: passwordOf('olga'), service: 'chartroom' }).toString();
  await app.inject({ method: 'POST', url: '/auth/token', payload: form, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  await app.inject({ method: 'GET', url: '/auth/token?service=chartroom', headers: { authorization: basic('alice', 'a-wrong-password') } });
  await app.inject({ method: 'GET', url: '/v2/team/app/tags/list', headers: { authorization: `Bearer ${token.token}` } });
  await app.inject({ method: 'GET', url: '/v2/team/app/tags/list', headers: { authorization: `Bearer ${token.token}x` } });
  await app.inject({ method: 'GET', url: '/chartrepo/team/index.yaml', headers: { authorization: basic('paul') } });
  await app.close();

  t.ok(lines.length > 5, `${lines.length} log lines captured`);
  const log = lines.join('');
  for (const secret of [passwordOf('alice'), passwordOf('olga'), passwordOf('paul'), 'a-wrong-password', token.token, token.refresh_token]) {
    t.notOk(log.includes(secret), `not logged: ${secret.slice(0, 12)}…`);
  }
  t.notOk(/authorization/i.test(log) && /Basic [A-Za-z0-9+/=]{8,}/.test(log), 'no Authorization header value');
});
