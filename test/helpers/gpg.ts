// Throwaway OpenPGP keys for provenance tests (`helm package --sign`, `helm pull --verify`).
//
// Helm reads legacy keyring files (secring.gpg / pubring.gpg), not a GnuPG home, so each key
// is generated with GnuPG in its own temporary GNUPGHOME (RSA, no passphrase) and exported to
// `secring.gpg` (secret key, unprotected) and `pubring.gpg` (public key) beside it. GnuPG comes
// from the Debian package `gnupg` (`apt-get install -y gnupg`); a missing gpg is reported by
// findGpg() returning undefined so the caller can fail with a clear message.

import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Test } from 'tap';
import { runClient, type ClientResult } from './clients.js';
import { onPath } from './which.js';

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

export interface KeyIdentity {
  /** Name-Real of the user id. */
  name: string;
  email: string;
}

/**
 * Signing keys generated once for a whole test file, on first use, each in its own directory
 * under one temporary root that is removed when `t` (the file's root test) ends. Every call
 * returns the same promise; when gpg is missing it rejects with how to install it. The
 * rejection is handled here too, so an early one is not "unhandled" before a subtest awaits it.
 */
export function signingKeysOnce<K extends string>(t: Test, identities: Record<K, KeyIdentity>): () => Promise<Record<K, GpgKey>> {
  let keys: Promise<Record<K, GpgKey>> | undefined;
  return () => {
    if (keys) return keys;
    const gpg = findGpg();
    if (gpg === undefined) {
      keys = Promise.reject(new Error('gpg not found: install the Debian package gnupg (apt-get install -y gnupg) or set GPG'));
    } else {
      const root = mkdtempSync(path.join(tmpdir(), 'chartroom-e2e-gpg-'));
      t.teardown(() => rmSync(root, { recursive: true, force: true }));
      keys = (async () => {
        const made: Partial<Record<K, GpgKey>> = {};
        // One after the other: each generation starts (and stops) its own gpg-agent.
        for (const id of Object.keys(identities) as K[]) {
          const dir = path.join(root, id);
          mkdirSync(dir, { recursive: true });
          made[id] = await makeSigningKey(gpg, dir, identities[id].name, identities[id].email);
        }
        return made as Record<K, GpgKey>;
      })();
    }
    keys.catch(() => undefined);
    return keys;
  };
}
