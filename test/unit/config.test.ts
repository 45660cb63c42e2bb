import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import t from 'tap';
import { chartYamlSchema } from '../../src/charts/chart-yaml.js';
import { ConfigError, loadConfig } from '../../src/config/index.js';
import { configSchema } from '../../src/config/schema.js';
import { checkStorageCombination } from '../../src/config/storage.js';
import { tempDataDir } from '../helpers/server.js';

t.test('defaults give the embedded registry on 127.0.0.1:5000 with ./data', async (t) => {
  const config = loadConfig();
  t.equal(config.host, '127.0.0.1');
  t.equal(config.port, 5000);
  t.equal(config.data, './data');
  t.equal(config.limits.maxManifestBytes, 4 * 1024 * 1024);
  t.ok(Object.isFrozen(config.limits), 'config is frozen all the way down');
});

t.test('file, then CHARTROOM_* variables, then flags', async (t) => {
  const file = join(tempDataDir(t), 'config.yaml');
  writeFileSync(file, 'host: 0.0.0.0\nport: 6000\ndata: /srv/charts\nlimits:\n  maxManifestBytes: 8192\n');
  const fromFile = loadConfig({ file });
  t.same([fromFile.host, fromFile.port, fromFile.data, fromFile.limits.maxManifestBytes], ['0.0.0.0', 6000, '/srv/charts', 8192]);

  const env = { CHARTROOM_CONFIG: file, CHARTROOM_PORT: '7000', CHARTROOM_MAX_MANIFEST_BYTES: '16384' };
  const fromEnv = loadConfig({ env });
  t.equal(fromEnv.port, 7000, 'env beats file');
  t.equal(fromEnv.host, '0.0.0.0', 'file still fills the rest');
  t.equal(fromEnv.limits.maxManifestBytes, 16384);

  const fromFlags = loadConfig({ env, overrides: { port: '8000', data: undefined } });
  t.equal(fromFlags.port, 8000, 'flags beat env');
  t.equal(fromFlags.data, '/srv/charts', 'an absent flag changes nothing');
});

t.test('a bad config fails with the field named', async (t) => {
  t.throws(() => loadConfig({ env: { CHARTROOM_PORT: 'http' } }), { name: 'ConfigError', message: /'port' must be integer/ });
  t.throws(() => loadConfig({ overrides: { port: 70000 } }), { message: /'port' must be <= 65535/ });
  t.throws(() => loadConfig({ overrides: { logLevel: 'loud' } }), { message: /'logLevel' must be one of/ });
  t.throws(() => loadConfig({ overrides: { 'limits.maxManifestBytes': 10 } }), { message: /'limits.maxManifestBytes' must be >= 1024/ });

  const dir = tempDataDir(t);
  const unknown = join(dir, 'unknown.yaml');
  writeFileSync(unknown, 'limits:\n  maxManifestByte: 5\n');
  t.throws(() => loadConfig({ file: unknown }), { message: /unknown field 'limits.maxManifestByte'/ });

  const notYaml = join(dir, 'broken.yaml');
  writeFileSync(notYaml, 'port: [1, 2\n');
  t.throws(() => loadConfig({ file: notYaml }), ConfigError);
  t.throws(() => loadConfig({ file: join(dir, 'missing.yaml') }), { message: /cannot read config file .*ENOENT/ });

  const list = join(dir, 'list.yaml');
  writeFileSync(list, '- port: 1\n');
  t.throws(() => loadConfig({ file: list }), { message: /must hold a mapping/ });
});

t.test('PostgreSQL metadata: a connection string is required and never shown; replicas with auth need one signing key', async (t) => {
  const url = 'postgres://chartroom:s3cret-password@db:5432/chartroom';
  const config = loadConfig({ env: { CHARTROOM_METADATA_DRIVER: 'postgres', CHARTROOM_DATABASE_URL: url, CHARTROOM_DATABASE_POOL_SIZE: '20' } });
  t.same(config.metadata, { driver: 'postgres', url, poolSize: 20 });
  t.equal(loadConfig().metadata.driver, 'sqlite', 'the embedded store by default');
  t.throws(() => loadConfig({ overrides: { 'metadata.driver': 'postgres' } }), { message: /'metadata.url' must be a postgres:\/\/ connection string/ });
  t.throws(() => loadConfig({ overrides: { 'metadata.driver': 'mysql' } }), { message: /'metadata.driver' must be one of sqlite, postgres/ });
  const noKey = (() => {
    try {
      loadConfig({ overrides: { 'metadata.driver': 'postgres', 'metadata.url': url, 'auth.enabled': true } });
      return undefined;
    } catch (err) {
      return err as Error;
    }
  })();
  t.match(noKey?.message, /set 'auth.signingKey' to a key file every replica reads/);
  t.notMatch(noKey?.message, /s3cret/, 'the password is not in the message');
  t.equal(loadConfig({ overrides: { 'metadata.driver': 'postgres', 'metadata.url': url, 'auth.enabled': true, 'auth.signingKey': '/keys/k.pem' } }).auth.signingKey, '/keys/k.pem');
});

t.test('storage: blobs on disk by default; S3 from the file or CHARTROOM_S3_* variables', async (t) => {
  const defaults = loadConfig();
  t.equal(defaults.storage.driver, 'disk');
  t.equal(defaults.storage.s3.partSizeBytes, 8 * 1024 * 1024);
  t.equal(defaults.storage.s3.redirect, false, 'no redirects unless asked for');

  const fromEnv = loadConfig({
    env: { CHARTROOM_S3_ENDPOINT: 'http://127.0.0.1:7480', CHARTROOM_S3_BUCKET: 'charts', CHARTROOM_S3_ACCESS_KEY_ID: 'id', CHARTROOM_S3_SECRET_ACCESS_KEY: 'secret', CHARTROOM_S3_FORCE_PATH_STYLE: 'true', CHARTROOM_S3_REDIRECT: 'true' },
  });
  t.same(
    [fromEnv.storage.s3.endpoint, fromEnv.storage.s3.bucket, fromEnv.storage.s3.accessKeyId, fromEnv.storage.s3.secretAccessKey, fromEnv.storage.s3.forcePathStyle, fromEnv.storage.s3.redirect],
    ['http://127.0.0.1:7480', 'charts', 'id', 'secret', true, true],
  );
});

t.test('storage: S3 settings are checked, and their values never appear in the message', async (t) => {
  const secret = 'wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY';
  const s3 = (settings: Record<string, unknown>) => loadConfig({ overrides: { 'storage.driver': 's3', ...settings } });
  t.throws(() => s3({ 'storage.s3.secretAccessKey': secret }), { message: /'storage.s3.bucket' is required/ });
  t.throws(() => s3({ 'storage.s3.bucket': 'charts', 'storage.s3.secretAccessKey': secret }), { message: /'storage.s3.accessKeyId' and 'storage.s3.secretAccessKey' go together/ });
  t.throws(() => s3({ 'storage.s3.bucket': 'charts', 'storage.s3.endpoint': `ftp://${secret}@host` }), { message: /'storage.s3.endpoint' must be an http/ });
  t.throws(() => loadConfig({ overrides: { 'storage.s3.partSizeBytes': 1024 * 1024 } }), { message: /'storage.s3.partSizeBytes' must be >= 5242880/ });
  t.throws(() => loadConfig({ overrides: { 'storage.s3.bucket': 'Not_A_Bucket' } }), { message: /'storage.s3.bucket' must match/ });
  for (const settings of [{ 'storage.s3.secretAccessKey': secret }, { 'storage.s3.endpoint': `ftp://${secret}@host` }]) {
    try {
      s3(settings);
      t.fail('refused');
    } catch (err) {
      t.notOk((err as Error).message.includes(secret), 'the message names fields, not values');
    }
  }
});

t.test('storage: S3 needs the PostgreSQL metadata store', async (t) => {
  t.throws(
    () => loadConfig({ overrides: { 'storage.driver': 's3', 'storage.s3.bucket': 'charts' } }),
    { name: 'ConfigError', message: /storage.driver s3 needs metadata.driver postgres/ },
    'refused with the embedded SQLite store',
  );
  const config = loadConfig();
  const withS3 = { ...config, storage: { ...config.storage, driver: 's3' as const } };
  t.equal(checkStorageCombination({ ...withS3, metadata: { ...config.metadata, driver: 'postgres' } }), undefined, 'taken with PostgreSQL');
  t.equal(checkStorageCombination(config), undefined, 'disk goes with anything');
});

t.test('the config and Chart.yaml schemas are valid JSON Schema (not checked at start, for speed)', async (t) => {
  const ajv = new Ajv();
  for (const [name, schema] of [['config', configSchema], ['Chart.yaml', chartYamlSchema]] as const) {
    t.ok(ajv.validateSchema(schema), `${name}: ${ajv.errorsText(ajv.errors)}`);
  }
  t.notOk(ajv.validateSchema({ type: 'object', properties: { port: { type: 'integr' } } }), 'a broken schema is caught');
});
