import { readFileSync } from 'node:fs';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { ConfigError, type Config } from './config/index.js';
import { openMetadata } from './db/index.js';
import { OciError } from './errors.js';
import { createLogger } from './logger.js';
import { GcRunningError } from './registry/gc.js';
import { createRegistry } from './registry/index.js';
import { createAuthorizer } from './auth/authorizer.js';
import { createCredentials } from './auth/credentials.js';
import { compileRules } from './auth/rules.js';
import { createTokenSigner } from './auth/tokens.js';
import { registerAccessControl } from './routes/access.js';
import { AccessLog } from './routes/access-log.js';
import { tokenRoutes } from './routes/auth/token.js';
import { registerBodyRateGuard } from './routes/body-rate.js';
import { registerErrorHandler } from './routes/errors.js';
import { apiV1Routes } from './routes/api/v1.js';
import { healthRoutes } from './routes/ops/health.js';
import { registerMetrics } from './routes/ops/metrics.js';
import { chartMuseumRoutes } from './routes/chartmuseum/index.js';
import { chartRepoRoutes } from './routes/chartrepo/index.js';
import { uiRoutes } from './routes/ui/index.js';
import { defaultWebRoot, loadWebAssets } from './routes/ui/web-assets.js';
import { v2Routes } from './routes/v2/index.js';
import type { BlobStore } from './storage/blob-store.js';
import { createBlobStore } from './storage/index.js';
import { packageVersion } from './version.js';
import { createWebhooks } from './webhooks/index.js';

export interface ServerOptions {
  logger?: Logger;
  /** The built web UI (`dist/web` unless told otherwise). */
  webRoot?: string;
  /** A blob store made elsewhere (tests, tools) instead of the configured one. */
  blobs?: BlobStore;
}

function readTlsFiles(tls: Config['tls']): { cert: Buffer; key: Buffer } {
  const read = (file: string, field: string): Buffer => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new ConfigError(`cannot read ${field} ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
  };
  return { cert: read(tls.cert, 'tls.cert'), key: read(tls.key, 'tls.key') };
}

/** Fastify's trustProxy from the config's string: '' nobody, 'true' everybody, else a list of addresses. */
function trustedProxies(setting: string): boolean | string[] {
  if (setting === '' || setting === 'false') return false;
  if (setting === 'true') return true;
  return setting.split(',').map((entry) => entry.trim()).filter(Boolean);
}

/** A ready, not yet listening app over the data directory named in `config`. */
export async function buildServer(config: Config, options: ServerOptions = {}): Promise<FastifyInstance> {
  const log = options.logger ?? createLogger(config.logLevel);
  const metadata = await openMetadata(config);
  const blobs = options.blobs ?? (await createBlobStore(config, log));
  const webhooks = createWebhooks(config.webhooks, log, `chartroom/${packageVersion()}`);
  const registry = createRegistry({ metadata, blobs, config, log, now: Date.now, changes: webhooks });

  const loggerInstance: FastifyBaseLogger = log;
  const { limits } = config;
  // Node's own clock for slow request heads; it looks at connections this often.
  const headTimeouts = {
    headersTimeout: limits.headersTimeoutSeconds * 1000,
    connectionsCheckingInterval: Math.min(30_000, Math.max(250, (limits.headersTimeoutSeconds * 1000) / 4)),
  };
  const app: FastifyInstance = Fastify({
    ...(config.tls.cert ? { https: { ...readTlsFiles(config.tls), ...headTimeouts } } : { http: headTimeouts }),
    trustProxy: trustedProxies(config.trustProxy),
    loggerInstance,
    logController: new AccessLog(),
    exposeHeadRoutes: false,
    // Chunked uploads of large blobs take as long as they take: no total time, but a body must
    // keep a minimum rate (body-rate.ts) and a connection silent both ways is closed.
    requestTimeout: 0,
    connectionTimeout: limits.idleTimeoutSeconds * 1000,
  });
  registerBodyRateGuard(app, limits.minBodyBytesPerSecond, limits.bodyRateWindowSeconds);

  const rules = compileRules(config.auth.rules);
  const signer = config.auth.enabled ? await createTokenSigner(config.auth, config.data) : undefined;
  const credentials = config.auth.enabled ? createCredentials(config.auth, metadata, Date.now) : undefined;
  const authorizer = createAuthorizer(config.auth, signer, credentials, rules, Date.now);

  registerErrorHandler(app);
  registerAccessControl(app, authorizer);
  registerMetrics(app, metadata, webhooks);
  app.setNotFoundHandler(async () => {
    throw new OciError('NOT_FOUND', 'not found');
  });

  if (signer && credentials) await app.register(tokenRoutes, { auth: config.auth, authorizer, signer, credentials });
  await app.register(v2Routes, { registry, authorizer });
  await app.register(chartRepoRoutes, { registry, authorizer, jsonAtIndexYaml: config.charts.indexFormat === 'json' });
  await app.register(chartMuseumRoutes, { registry, authorizer, maxUploadBytes: config.charts.maxUnpackedBytes });
  await app.register(apiV1Routes, { registry, authorizer });
  const webRoot = options.webRoot ?? defaultWebRoot;
  const assets = loadWebAssets(webRoot);
  if (!assets) log.warn({ webRoot }, 'the web UI is not built (npm run build): / says so, the APIs work');
  await app.register(uiRoutes, { assets });
  await app.register(healthRoutes, { metadata, blobs });

  const sweep = async (): Promise<void> => {
    try {
      const removed = await registry.uploads.sweep();
      if (removed > 0) log.info({ removed }, 'removed stale upload sessions');
    } catch (err) {
      log.error({ err }, 'upload sweep failed');
    }
  };
  await sweep();
  const interval = config.uploads.sweepIntervalSeconds;
  const timer = interval > 0 ? setInterval(() => void sweep(), interval * 1000).unref() : undefined;

  const collect = async (): Promise<void> => {
    try {
      const report = await registry.gc.run({ graceSeconds: config.gc.graceSeconds, untagged: config.gc.untagged, dryRun: false });
      log.info({ gc: report }, 'garbage collection done');
    } catch (err) {
      if (err instanceof GcRunningError) log.warn('garbage collection skipped: the previous one is still running');
      else log.error({ err }, 'garbage collection failed');
    }
  };
  const gcTimer = config.gc.intervalSeconds > 0 ? setInterval(() => void collect(), config.gc.intervalSeconds * 1000).unref() : undefined;

  app.addHook('onClose', async () => {
    clearInterval(timer);
    clearInterval(gcTimer);
    await registry.gc.stop();
    await webhooks.close();
    await metadata.close();
  });

  return app;
}
