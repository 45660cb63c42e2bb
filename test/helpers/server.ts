import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Test } from 'tap';
import { loadConfig, type Config } from '../../src/config/index.js';
import { buildServer, type ServerOptions } from '../../src/server.js';
import { metadataOverrides } from './backends.js';

export interface TestApp {
  app: FastifyInstance;
  config: Config;
  dataDir: string;
}

export interface TestServer extends TestApp {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** `127.0.0.1:<port>`, as helm and skopeo want it. */
  host: string;
}

/** A fresh data directory, removed when the test ends. */
export function tempDataDir(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'chartroom-test-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** An app on its own data directory for `app.inject`; closed when the test ends. */
export async function buildTestApp(t: Test, overrides: Record<string, unknown> = {}, dataDir = tempDataDir(t), options: ServerOptions = {}): Promise<TestApp> {
  const config = loadConfig({
    overrides: { data: dataDir, host: '127.0.0.1', port: 0, logLevel: process.env.CHARTROOM_TEST_LOG ?? 'silent', ...(await metadataOverrides(t, dataDir)), ...overrides },
  });
  const app = await buildServer(config, options);
  t.teardown(() => app.close());
  return { app, config, dataDir };
}

/** A server listening on 127.0.0.1 and a free port, for stock clients. */
export async function startServer(t: Test, overrides: Record<string, unknown> = {}, dataDir?: string): Promise<TestServer> {
  const built = await buildTestApp(t, overrides, dataDir);
  await built.app.listen({ host: '127.0.0.1', port: 0 });
  const address = built.app.server.address();
  if (typeof address !== 'object' || address === null) throw new Error('server has no address');
  const host = `127.0.0.1:${address.port}`;
  return { ...built, url: `http://${host}`, host };
}
