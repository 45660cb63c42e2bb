// skopeo in an isolated environment for e2e tests: its own HOME, registries.conf, auth file and
// TMPDIR, so nothing from the machine's configuration leaks in.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Test } from 'tap';
import { findSkopeo } from './clients.js';
import { tempDir } from './tmp.js';

export interface Skopeo {
  bin: string;
  env: Record<string, string>;
  tmp: string;
}

/** skopeo in an isolated environment, or a failed assertion when it is not installed. */
export function skopeoFor(t: Test): Skopeo | undefined {
  const bin = findSkopeo();
  if (bin === undefined) {
    t.fail('skopeo not found: install the Debian package `skopeo` (apt-get install -y skopeo) or set SKOPEO');
    return undefined;
  }
  const home = tempDir(t, 'skopeo-home');
  const registriesConf = join(home, 'registries.conf');
  writeFileSync(registriesConf, '');
  const tmp = join(home, 'tmp');
  mkdirSync(tmp);
  return {
    bin,
    tmp,
    env: {
      HOME: home,
      PATH: process.env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin',
      XDG_RUNTIME_DIR: home,
      XDG_CONFIG_HOME: join(home, '.config'),
      XDG_DATA_HOME: join(home, '.local', 'share'),
      CONTAINERS_REGISTRIES_CONF: registriesConf,
      REGISTRY_AUTH_FILE: join(home, 'auth.json'),
      DOCKER_CONFIG: join(home, '.docker'),
      TMPDIR: tmp,
    },
  };
}
