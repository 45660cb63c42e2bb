import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { exportPKCS8, generateKeyPair } from 'jose';
import pg from 'pg';
import type { Test } from 'tap';

// The external engines some tests run against: PostgreSQL (and, in storage tests, S3). Their
// addresses come from the environment; `.ci/run` starts both and sets CHARTROOM_TEST_REQUIRE_BACKENDS=1,
// which turns a missing engine from a skip into a failure.

/** A PostgreSQL connection string for a role that may create schemas, or undefined. */
export const testDatabaseUrl = process.env.CHARTROOM_TEST_DATABASE_URL;

const required = process.env.CHARTROOM_TEST_REQUIRE_BACKENDS === '1';

/** True when the engine is there; otherwise skips (or fails, when backends are required) and says why. */
export function haveBackend(t: Test, name: string, available: boolean): boolean {
  if (available) return true;
  if (required) t.fail(`${name} is required (CHARTROOM_TEST_REQUIRE_BACKENDS=1) but not configured`);
  else t.pass(name, { skip: `${name} is not configured here; .ci/run starts it` });
  return false;
}

/**
 * A connection string to an empty schema of its own in the test database, dropped when the test
 * ends: tests and test files run side by side without seeing each other's rows.
 */
export async function freshPostgresUrl(t: Test): Promise<string> {
  if (!testDatabaseUrl) throw new Error('CHARTROOM_TEST_DATABASE_URL is not set');
  const schema = `test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: testDatabaseUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE SCHEMA ${schema}`);
  } finally {
    await admin.end();
  }
  t.teardown(async () => {
    const cleanup = new pg.Client({ connectionString: testDatabaseUrl });
    await cleanup.connect();
    try {
      await cleanup.query(`DROP SCHEMA ${schema} CASCADE`);
    } finally {
      await cleanup.end();
    }
  });
  const url = new URL(testDatabaseUrl);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return url.toString();
}

// A data directory's schema: an app built again over the same directory (a restart) finds its rows.
const schemaOfDataDir = new Map<string, Promise<string>>();
const urlOfDataDir = new Map<string, string>();

/** For a `chartroom` process over a test's data directory: the environment that points it at the same metadata. */
export function metadataEnv(dataDir: string): Record<string, string> {
  const url = urlOfDataDir.get(dataDir);
  return url === undefined ? {} : { CHARTROOM_METADATA_DRIVER: 'postgres', CHARTROOM_DATABASE_URL: url };
}

/** Config overrides that put a test app's metadata in PostgreSQL when CHARTROOM_TEST_METADATA=postgres. */
export async function metadataOverrides(t: Test, dataDir: string): Promise<Record<string, unknown>> {
  if (process.env.CHARTROOM_TEST_METADATA !== 'postgres') return {};
  let url = schemaOfDataDir.get(dataDir);
  if (!url) {
    url = freshPostgresUrl(t);
    schemaOfDataDir.set(dataDir, url);
    urlOfDataDir.set(dataDir, await url);
  }
  // Replicas over PostgreSQL share a configured signing key; the default place serves as that file here.
  return { 'metadata.driver': 'postgres', 'metadata.url': await url, 'auth.signingKey': await signingKeyIn(dataDir) };
}

async function signingKeyIn(dataDir: string): Promise<string> {
  const file = join(dataDir, 'auth', 'signing-key.pem');
  if (!existsSync(file)) {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, await exportPKCS8(privateKey), { mode: 0o600 });
  }
  return file;
}
