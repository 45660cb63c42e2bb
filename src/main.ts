import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, type Config } from './config/index.js';
import { createLogger } from './logger.js';
import { buildServer } from './server.js';

const usage = `Usage: chartroom [serve] [options]

Commands:
  serve            start the registry (the default)

Options:
  --host <addr>    interface to listen on       (CHARTROOM_HOST, default 127.0.0.1)
  --port <n>       port to listen on            (CHARTROOM_PORT, default 5000)
  --data <dir>     data directory               (CHARTROOM_DATA, default ./data)
  --config <file>  YAML config file             (CHARTROOM_CONFIG)
  --log-level <l>  fatal|error|warn|info|debug|trace|silent (CHARTROOM_LOG_LEVEL)
  -h, --help       show this help
`;

const shutdownGraceMs = 25_000;

const flagOptions = {
  host: { type: 'string' },
  port: { type: 'string' },
  data: { type: 'string' },
  config: { type: 'string' },
  'log-level': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: flagOptions, allowPositionals: true, strict: true });
  } catch (err) {
    process.stderr.write(`chartroom: ${(err as Error).message}\n\n${usage}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(usage);
    return 0;
  }
  const command = positionals[0] ?? 'serve';
  if (command !== 'serve' || positionals.length > 1) {
    process.stderr.write(`chartroom: unknown command '${positionals.join(' ')}'\n\n${usage}`);
    return 2;
  }

  let config: Config;
  try {
    config = loadConfig({
      file: values.config,
      env: process.env,
      overrides: { host: values.host, port: values.port, data: values.data, logLevel: values['log-level'] },
    });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`chartroom: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  return serve(config);
}

async function serve(config: Config): Promise<number> {
  const log = createLogger(config.logLevel);
  const app = await buildServer(config, { logger: log });
  // Handlers go in before listening: a signal right after the ready line must still shut down cleanly.
  const stopped = new Promise<number>((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      log.info({ signal }, 'shutting down');
      // In-flight requests get a grace period; a stalled upload must not hold the process forever.
      setTimeout(() => {
        log.warn({ graceSeconds: shutdownGraceMs / 1000 }, 'closing connections still open after the grace period');
        app.server.closeAllConnections();
      }, shutdownGraceMs).unref();
      app.close().then(
        () => resolve(0),
        (err: unknown) => {
          log.error({ err }, 'shutdown failed');
          resolve(1);
        },
      );
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  await app.listen({
    host: config.host,
    port: config.port,
    listenTextResolver: (address) => `Chartroom listening on ${address} (data in ${config.data})`,
  });
  return stopped;
}
