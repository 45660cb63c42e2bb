// Throwaway OpenPGP keys for provenance tests (`helm package --sign`, `helm pull --verify`).
//
// Helm reads legacy keyring files (secring.gpg / pubring.gpg), not a GnuPG home, so each key
// is generated with GnuPG in its own temporary GNUPGHOME (RSA, no passphrase) and exported to
// `secring.gpg` (secret key, unprotected) and `pubring.gpg` (public key) beside it. GnuPG comes
// from the Debian package `gnupg` (`apt-get install -y gnupg`); a missing gpg is reported by
// findGpg() returning undefined so the caller can fail with a clear message.

import { accessSync, constants as fsConstants, mkdirSync } from 'node:fs';
import path from 'node:path';
import { runClient, type ClientResult } from './clients.js';

export interface GpgKey {
  /** Name-Real of the user id: what `helm package --sign --key` matches. */
  name: string;
  email: string;
  /** Full fingerprint, upper-case hex. */
  fingerprint: string;
  /** Legacy keyring holding the unprotected secret key, for `helm package --keyring`. */
  secring: string;
  /** Legacy keyring holding the public key only, for `helm pull --verify --keyring`. */
  pubring: string;
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(path.delimiter)) {
    if (dir && isExecutable(path.join(dir, name))) return path.join(dir, name);
  }
  return undefined;
}

/** Path of gpg: $GPG if set, else `gpg` on PATH, else undefined. */
export function findGpg(): string | undefined {
  return process.env['GPG'] || onPath('gpg');
}

async function run(bin: string, args: string[], env: Record<string, string>, input?: string): Promise<ClientResult> {
  const result = await runClient(bin, args, { env, input, timeoutMs: 120_000 });
  if (result.code !== 0) {
    throw new Error(`\`${bin} ${args.join(' ')}\` exited ${result.code}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`);
  }
  return result;
}

/**
 * Generates an RSA signing key with no passphrase in `<dir>/gnupg` and exports it to
 * `<dir>/secring.gpg` and `<dir>/pubring.gpg`. The gpg-agent the generation started is
 * stopped before returning, so nothing outlives the call.
 */
export async function makeSigningKey(gpg: string, dir: string, name: string, email: string): Promise<GpgKey> {
  const home = path.join(dir, 'gnupg');
  mkdirSync(home, { recursive: true, mode: 0o700 });
  const env: Record<string, string> = {
    PATH: process.env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: dir,
    GNUPGHOME: home,
    LC_ALL: 'C',
  };
  const params = [
    '%no-protection',
    'Key-Type: RSA',
    'Key-Length: 2048',
    'Key-Usage: sign',
    `Name-Real: ${name}`,
    `Name-Email: ${email}`,
    'Expire-Date: 0',
    '%commit',
    '',
  ].join('\n');
  try {
    await run(gpg, ['--batch', '--gen-key'], env, params);
    const listed = await run(gpg, ['--batch', '--with-colons', '--fingerprint', email], env);
    const fingerprint = /^fpr:(?:[^:]*:){8}([0-9A-F]{40,64}):/m.exec(listed.stdout)?.[1];
    if (fingerprint === undefined) throw new Error(`no fingerprint in gpg --with-colons output:\n${listed.stdout}`);
    // Exported with --output: runClient decodes stdout as UTF-8, which would mangle binary keyrings.
    const secring = path.join(dir, 'secring.gpg');
    const pubring = path.join(dir, 'pubring.gpg');
    await run(gpg, ['--batch', '--yes', '--output', secring, '--export-secret-keys', fingerprint], env);
    await run(gpg, ['--batch', '--yes', '--output', pubring, '--export', fingerprint], env);
    return { name, email, fingerprint, secring, pubring };
  } finally {
    const gpgconf = onPath('gpgconf');
    if (gpgconf) await runClient(gpgconf, ['--kill', 'gpg-agent'], { env, timeoutMs: 30_000 }).catch(() => undefined);
  }
}

