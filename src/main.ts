import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { readHtpasswd, removeHtpasswdUser, setHtpasswdUser } from './auth/htpasswd.js';
import { createRobots } from './auth/robots.js';
import { openMetadata } from './db/index.js';
import { openEmbeddedExport } from './db/sqlite-export.js';
import { ConfigError, loadConfig, type Config } from './config/index.js';
import { createLogger } from './logger.js';
import { parseDuration } from './config/duration.js';
import { noChangeListener } from './registry/changes.js';
import { createGarbageCollector, GcRunningError, type GcReport } from './registry/gc.js';
import { backup, BackupError, restore } from './ops/backup.js';
import { ImportError, importRepository } from './ops/import.js';
import { migrate, MigrateError } from './ops/migrate.js';
import { createRegistry, type RegistryContext } from './registry/index.js';
import { buildServer } from './server.js';
import { createDiskBlobStore } from './storage/disk-blob-store.js';
import { createBlobStore } from './storage/index.js';
import { packageVersion } from './version.js';

const usage = `Usage: chartroom [serve] [options]
       chartroom token create <name> --scope <glob>:<actions> [--scope …] [--expires-in 90d] [options]
       chartroom token list|revoke <name> [options]
       chartroom user add|remove <name> [--htpasswd <file>] [options]   (add reads the password from stdin)
       chartroom user list [--htpasswd <file>] [options]
       chartroom rebuild [options]
       chartroom gc [--dry-run] [--untagged] [--grace <duration>] [options]
       chartroom backup <dir> [options]
       chartroom restore <dir> [options]
       chartroom import <repository dir | index.yaml URL> [--namespace <ns>] [options]
       chartroom migrate <target config.yaml> [--parallel <n>] [options]
       chartroom version
       chartroom <command> --help

Commands:
  serve            start the registry (the default)
  token create     create a robot access token (the secret is printed once)
  token list       list robot tokens
  token revoke     revoke a robot token
  user add         add a user to the htpasswd file, or set a new password (bcrypt); a running
                   server sees the change within a second
  user remove      remove a user from the htpasswd file
  user list        list the users of the htpasswd file
  rebuild          rebuild the chart search index from the chart metadata (safe while serving)
  gc               remove blobs no manifest references (and untagged manifests with --untagged);
                   safe while serving
  backup <dir>     copy the database and every blob into <dir>, consistently, while serving
  restore <dir>    restore a backup into the data directory (which must be absent or empty)
  import <source>  pull every chart version of a classic repository (a directory or an
                   index.yaml URL) in as OCI artifacts
  migrate <config> copy the embedded registry in --data into the stores another config names
                   (PostgreSQL, S3), verifying every digest; resumable
  version          print the version

Options:
  --host <addr>    interface to listen on       (CHARTROOM_HOST, default 127.0.0.1)
  --port <n>       port to listen on            (CHARTROOM_PORT, default 5000)
  --data <dir>     data directory               (CHARTROOM_DATA, default ./data)
  --config <file>  YAML config file             (CHARTROOM_CONFIG)
  --log-level <l>  fatal|error|warn|info|debug|trace|silent (CHARTROOM_LOG_LEVEL)
  --tls-cert <f>   serve HTTPS with this PEM certificate  (CHARTROOM_TLS_CERT)
  --tls-key <f>    and this PEM private key               (CHARTROOM_TLS_KEY)
  --trust-proxy <a> believe X-Forwarded-* from these addresses/CIDRs, or 'true' (CHARTROOM_TRUST_PROXY)
  --htpasswd <f>   the htpasswd file for 'user' commands (default: auth.htpasswd, CHARTROOM_AUTH_HTPASSWD)
  -h, --help       show this help
`;

/** What `chartroom <command> --help` says before the options. */
const commandHelp: Record<string, string> = {
  serve: 'Usage: chartroom [serve] [options]\n\nStarts the registry; logs one line with its URL when ready, stops cleanly on SIGTERM or SIGINT.',
  token:
    'Usage: chartroom token create <name> --scope <glob>:<actions> [--scope …] [--expires-in 90d] [options]\n' +
    '       chartroom token list|revoke <name> [options]\n\n' +
    'Robot access tokens: create prints the secret once (use it as a password); actions are pull, push, delete.',
  user:
    'Usage: chartroom user add|remove <name> [--htpasswd <file>] [options]\n' +
    '       chartroom user list [--htpasswd <file>] [options]\n\n' +
    'Users of the htpasswd file (bcrypt, as `htpasswd -B` writes it). add reads the password as one line\n' +
    'from stdin and also sets a new password for an existing user. A running server sees changes within a second.',
  rebuild: 'Usage: chartroom rebuild [options]\n\nRebuilds the chart search index from the chart metadata (safe while serving).',
  gc:
    'Usage: chartroom gc [--dry-run] [--untagged] [--grace <duration>] [options]\n\n' +
    'Removes blobs that no manifest references and files under blobs/ that no record names, when they\n' +
    'were stored or linked longer ago than the grace period (default gc.graceSeconds, 1h; e.g. --grace 30m).\n' +
    'With --untagged (or gc.untagged) it first removes manifests that no tag, index or live subject keeps.\n' +
    'Safe while the registry serves. Prints each removed item on stdout and a summary on stderr;\n' +
    '--dry-run removes nothing and prints what would go (blobs freed only by removing untagged\n' +
    'manifests show up in the run after those manifests are gone).',
  backup:
    'Usage: chartroom backup <dir> [options]\n\n' +
    'Writes a consistent backup of the data directory into <dir> (absent or empty) while the registry\n' +
    'serves: the database through SQLite\'s online backup, then every blob it records, each digest\n' +
    'checked; garbage collection removes no file meanwhile. Pushes acknowledged before the backup\n' +
    'starts are in it; later ones may be.',
  restore:
    'Usage: chartroom restore <dir> [options]\n\n' +
    'Restores the backup in <dir> into the data directory (--data), which must be absent or empty:\n' +
    'the database is checked, every blob\'s digest verified, and the result renamed into place.\n' +
    'Start the registry on it afterwards.',
  import:
    'Usage: chartroom import <repository dir | index.yaml URL> [--namespace <ns>] [options]\n\n' +
    'Stores every chart version of a classic Helm repository as the OCI artifact helm push makes, in\n' +
    '<ns> (default: the top level), with its .prov when there is one; the index\'s digests are checked.\n' +
    'A directory without index.yaml imports its .tgz files. Versions already stored unchanged are\n' +
    'skipped, so an interrupted import can run again. Safe while serving. Prints one line per chart;\n' +
    'exits 1 when any failed.',
  migrate:
    'Usage: chartroom migrate <target config.yaml> [--parallel <n>] [options]\n\n' +
    'Copies the embedded registry in the data directory (--data: its SQLite database and blob files)\n' +
    'into the stores the target config names (metadata.driver postgres, storage.driver s3; CHARTROOM_*\n' +
    'variables apply to the target): every blob, hashed on the way, then repository links, manifests\n' +
    '(digests checked) with their tags and chart records, and robot tokens; the search index is built\n' +
    'as it goes. Upload sessions in progress are not carried over. Resumable: blobs already there are\n' +
    'skipped and everything else is written idempotently, so run it again after a failure, and once more\n' +
    'with the old registry stopped to catch up before switching. --parallel sets blob copies in flight (4).',
  version: 'Usage: chartroom version\n\nPrints the version.',
};

function commandUsage(command: string): string {
  return `${commandHelp[command] ?? usage}\n\n${usage.slice(usage.indexOf('Options:'))}`;
}

const shutdownGraceMs = 25_000;

const flagOptions = {
  host: { type: 'string' },
  port: { type: 'string' },
  data: { type: 'string' },
  config: { type: 'string' },
  'log-level': { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'trust-proxy': { type: 'string' },
  scope: { type: 'string', multiple: true },
  'expires-in': { type: 'string' },
  htpasswd: { type: 'string' },
  'dry-run': { type: 'boolean' },
  untagged: { type: 'boolean' },
  grace: { type: 'string' },
  namespace: { type: 'string' },
  parallel: { type: 'string' },
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
  const [command = 'serve', ...rest] = positionals;
  if (values.help) {
    process.stdout.write(positionals.length > 0 && command in commandHelp ? commandUsage(command) : usage);
    return 0;
  }
  if (command === 'version' && rest.length === 0) {
    process.stdout.write(`chartroom ${packageVersion()}\n`);
    return 0;
  }
  const known = command === 'token' || command === 'user' || (['serve', 'rebuild', 'gc'].includes(command) && rest.length === 0) ||
    (['backup', 'restore', 'import', 'migrate'].includes(command) && rest.length === 1);
  if (!known) {
    process.stderr.write(`chartroom: unknown command '${positionals.join(' ')}'\n\n${usage}`);
    return 2;
  }

  let config: Config;
  try {
    config = loadConfig({
      file: values.config,
      env: process.env,
      overrides: {
        host: values.host,
        port: values.port,
        data: values.data,
        logLevel: values['log-level'],
        'tls.cert': values['tls-cert'],
        'tls.key': values['tls-key'],
        trustProxy: values['trust-proxy'],
      },
    });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`chartroom: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  if (command === 'token') return tokenCommand(config, rest, values.scope ?? [], values['expires-in']);
  if (command === 'user') return userCommand(values.htpasswd ?? config.auth.htpasswd, rest);
  if (command === 'rebuild') return rebuildCommand(config);
  if (command === 'backup') return backupCommand(config, rest[0] as string);
  if (command === 'restore') return embeddedStoreOnly(config, 'restore') ?? restoreCommand(rest[0] as string, config.data);
  if (command === 'import') return importCommand(config, rest[0] as string, values.namespace ?? '');
  if (command === 'migrate') return migrateCommand(config, rest[0] as string, values.parallel);
  if (command === 'gc') return gcCommand(config, { dryRun: values['dry-run'] ?? false, untagged: values.untagged, grace: values.grace });
  return serve(config);
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function userCommand(file: string | undefined, args: string[]): Promise<number> {
  const [action, name, ...extra] = args;
  if (!file) {
    process.stderr.write('chartroom: no htpasswd file: pass --htpasswd <file> or set auth.htpasswd\n');
    return 2;
  }
  try {
    if (action === 'add' && name && extra.length === 0) {
      // One line from stdin (`echo secret | chartroom user add alice`); a trailing newline is not part of it.
      const password = (await readStdin()).replace(/\r?\n$/, '');
      if (password === '' || password.includes('\n')) {
        process.stderr.write('chartroom: give the password as one line on stdin\n');
        return 2;
      }
      process.stderr.write(`user ${name} ${setHtpasswdUser(file, name, password)} in ${file}\n`);
    } else if (action === 'remove' && name && extra.length === 0) {
      if (!removeHtpasswdUser(file, name)) {
        process.stderr.write(`chartroom: no user ${name} in ${file}\n`);
        return 1;
      }
      process.stderr.write(`user ${name} removed from ${file}\n`);
    } else if (action === 'list' && !name) {
      for (const user of existsSync(file) ? readHtpasswd(file) : []) process.stdout.write(`${user.name}\n`);
    } else {
      process.stderr.write(commandUsage('user'));
      return 2;
    }
    return 0;
  } catch (err) {
    process.stderr.write(`chartroom: ${(err as Error).message}\n`);
    return 1;
  }
}

/** A failure the command expects (a bad backup, an unreadable index) is one line on stderr and exit status 1. */
async function failingCleanly(work: () => Promise<number>): Promise<number> {
  try {
    return await work();
  } catch (err) {
    if (!(err instanceof BackupError || err instanceof ImportError || err instanceof MigrateError)) throw err;
    process.stderr.write(`chartroom: ${err.message}\n`);
    return 1;
  }
}

/** A command's logs go to stderr, written at once: its stdout is the command's output. */
function commandLogger(config: Config) {
  return createLogger(config.logLevel, pino.destination({ dest: 2, sync: true }));
}

/** Runs a command on the registry's stores beside a (possibly running) server; logs go to stderr. */
function withStores(config: Config, work: (ctx: RegistryContext) => Promise<number>): Promise<number> {
  return failingCleanly(async () => {
    const metadata = await openMetadata(config);
    try {
      const log = commandLogger(config);
      return await work({ metadata, blobs: await createBlobStore(config, log), config, log, now: Date.now, changes: noChangeListener });
    } finally {
      await metadata.close();
    }
  });
}

async function rebuildCommand(config: Config): Promise<number> {
  if (!config.charts.search) {
    process.stderr.write('chartroom: chart search is turned off (charts.search: false); nothing to rebuild\n');
    return 1;
  }
  const metadata = await openMetadata(config);
  try {
    const started = performance.now();
    const charts = await metadata.rebuildSearchIndex();
    process.stderr.write(`search index rebuilt: ${charts} charts in ${Math.round(performance.now() - started)} ms\n`);
    return 0;
  } finally {
    await metadata.close();
  }
}

async function gcCommand(config: Config, flags: { dryRun: boolean; untagged: boolean | undefined; grace: string | undefined }): Promise<number> {
  let graceSeconds = config.gc.graceSeconds;
  try {
    if (flags.grace !== undefined) graceSeconds = parseDuration(flags.grace) / 1000;
  } catch (err) {
    process.stderr.write(`chartroom: ${(err as Error).message}\n`);
    return 2;
  }
  return withStores(config, async (ctx) => {
    const gc = createGarbageCollector(ctx);
    let report: GcReport;
    try {
      report = await gc.run({
        graceSeconds,
        untagged: flags.untagged ?? config.gc.untagged,
        dryRun: flags.dryRun,
        onItem: (item) => process.stdout.write(`${item.kind}\t${'repository' in item ? `${item.repository}@` : ''}${item.digest}\t${item.size}\n`),
      });
    } catch (err) {
      if (!(err instanceof GcRunningError)) throw err;
      // Not a failure: the collection this command asks for is being done.
      process.stderr.write(`gc skipped: ${err.message}\n`);
      return 0;
    }
    const verb = report.dryRun ? 'would remove' : 'removed';
    const parts = (['manifests', 'blobs', 'files'] as const).map((kind) => `${report[kind].count} ${kind} (${formatBytes(report[kind].bytes)})`);
    process.stderr.write(`gc ${verb} ${parts.join(', ')} in ${report.durationMs} ms\n`);
    if (report.held) process.stderr.write('blobs were left alone: a backup is copying them; run gc again once it is done\n');
    return 0;
  });
}

/** backup and restore copy the embedded store: a data directory with its SQLite database and blob files. */
function embeddedStoreOnly(config: Config, command: string): number | undefined {
  if (config.metadata.driver === 'sqlite' && config.storage.driver === 'disk') return undefined;
  process.stderr.write(
    `chartroom: ${command} copies the embedded store (SQLite and blob files in a data directory); with PostgreSQL or S3, ` +
      'back up the database with pg_dump and the bucket with its own tools\n',
  );
  return 1;
}

async function backupCommand(config: Config, target: string): Promise<number> {
  const refused = embeddedStoreOnly(config, 'backup');
  if (refused !== undefined) return refused;
  return withStores(config, async (ctx) => {
    const report = await backup(ctx, config.data, target);
    process.stderr.write(`backup of ${config.data} written to ${target}: ${report.blobs} blobs (${formatBytes(report.bytes)}) in ${report.durationMs} ms\n`);
    return 0;
  });
}

async function restoreCommand(source: string, dataDir: string): Promise<number> {
  return failingCleanly(async () => {
    const report = await restore(source, dataDir);
    process.stderr.write(`restored ${source} into ${dataDir}: ${report.blobs} blobs (${formatBytes(report.bytes)}) verified in ${report.durationMs} ms\n`);
    return 0;
  });
}

async function migrateCommand(config: Config, targetFile: string, parallelFlag: string | undefined): Promise<number> {
  let target: Config;
  try {
    target = loadConfig({ file: targetFile, env: process.env });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`chartroom: target ${err.message}\n`);
    return 2;
  }
  const parallel = Number(parallelFlag ?? 4);
  if (!Number.isInteger(parallel) || parallel < 1 || parallel > 64) {
    process.stderr.write('chartroom: --parallel must be a whole number from 1 to 64\n');
    return 2;
  }
  const database = join(config.data, 'chartroom.db');
  if (!existsSync(database)) {
    process.stderr.write(`chartroom: no embedded registry in ${config.data} (no chartroom.db there); pass --data <dir>\n`);
    return 1;
  }
  if (target.metadata.driver === 'sqlite' && resolve(target.data) === resolve(config.data)) {
    process.stderr.write('chartroom: the target config names the same data directory as the source\n');
    return 2;
  }
  return failingCleanly(async () => {
    const source = openEmbeddedExport(database);
    const metadata = await openMetadata(target);
    try {
      const report = await migrate(
        { database: source, blobs: await createDiskBlobStore(config.data) },
        { metadata, blobs: await createBlobStore(target, commandLogger(target)) },
        { parallel, progress: (line) => process.stderr.write(`migrate: ${line}\n`) },
      );
      process.stderr.write(
        `migrated ${config.data}: ${report.blobs.copied} blobs copied (${formatBytes(report.blobs.bytes)}), ${report.blobs.present} already there, ` +
          `${report.links} links, ${report.manifests} manifests, ${report.tags} tags, ${report.robots} robot tokens in ${report.durationMs} ms\n`,
      );
      return 0;
    } finally {
      source.close();
      await metadata.close();
    }
  });
}

async function importCommand(config: Config, source: string, namespace: string): Promise<number> {
  return withStores(config, async (ctx) => {
    const report = await importRepository(createRegistry(ctx).chartUploads, source, {
      namespace,
      maxChartBytes: config.charts.maxUnpackedBytes,
      onChart: (chart, outcome) => process.stdout.write(`${chart}\t${outcome}\n`),
    });
    process.stderr.write(`import from ${source}: ${report.imported} stored, ${report.unchanged} unchanged, ${report.failed.length} failed\n`);
    return report.failed.length > 0 ? 1 : 0;
  });
}

function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

async function tokenCommand(config: Config, args: string[], scopes: string[], expiresIn: string | undefined): Promise<number> {
  const [action, name] = args;
  const metadata = await openMetadata(config);
  const robots = createRobots(metadata, Date.now);
  try {
    if (action === 'create' && name) {
      const { secret, token } = await robots.create(name, scopes, expiresIn);
      const expires = token.expiresAt ? new Date(token.expiresAt).toISOString() : 'never';
      process.stdout.write(`${secret}\n`);
      process.stderr.write(`robot token ${name} created (expires: ${expires}); the secret above is shown only once.\n`);
      process.stderr.write(`use it as: helm registry login HOST --username ${name} --password-stdin\n`);
    } else if (action === 'list' && !name) {
      for (const token of await robots.list()) {
        const state = token.revokedAt ? 'revoked' : token.expiresAt && token.expiresAt <= Date.now() ? 'expired' : 'active';
        const scopesText = token.scopes.map((s) => `${s.repository}:${s.actions.join(',')}`).join(' ');
        process.stdout.write(`${token.name}\t${state}\t${scopesText}\tcreated ${new Date(token.createdAt).toISOString()}\n`);
      }
    } else if (action === 'revoke' && name) {
      await robots.revoke(name);
      process.stderr.write(`robot token ${name} revoked\n`);
    } else {
      process.stderr.write(usage);
      return 2;
    }
    return 0;
  } catch (err) {
    process.stderr.write(`chartroom: ${(err as Error).message}\n`);
    return 1;
  } finally {
    await metadata.close();
  }
}

async function serve(config: Config): Promise<number> {
  const log = createLogger(config.logLevel);
  let app;
  try {
    app = await buildServer(config, { logger: log });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`chartroom: ${err.message}\n`);
    return 2;
  }
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
