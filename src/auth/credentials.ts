import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { statSync } from 'node:fs';
import bcrypt from 'bcryptjs';
import { ConfigError } from '../config/index.js';
import type { AuthConfig, ConfigUser } from '../config/schema.js';
import type { Metadata } from '../db/metadata.js';
import { Lru } from '../registry/lru.js';
import { readHtpasswd } from './htpasswd.js';
import type { Identity } from './access.js';

/** Robot secrets carry a prefix so a password can be told from a token at a glance. */
export const robotSecretPrefix = 'crt_';

/** How often the htpasswd file is checked for changes, at most. */
const htpasswdCheckMs = 1000;

/** Verified logins are remembered briefly: bcrypt on every Basic-auth request would cost ~50 ms each. */
const rememberMs = 60_000;

// Compared against when the user is unknown, so a wrong name costs as long as a wrong password.
// Made on first use: hashing costs ~70 ms, which a start with auth off should not pay.
let decoy: string | undefined;
const decoyHash = (): string => (decoy ??= bcrypt.hashSync(randomBytes(16).toString('hex'), 10));

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

export function hashSecret(secret: string): string {
  return sha256(secret).toString('hex');
}

export function newRobotSecret(): string {
  return `${robotSecretPrefix}${randomBytes(24).toString('base64url')}`;
}

/** Users and their groups, robot tokens, and the checking of a name and password. */
export function createCredentials(auth: AuthConfig, metadata: Metadata, now: () => number) {
  let remembered = new Lru<string, { identity: Identity; until: number }>(1024);
  let users = new Map<string, ConfigUser>();
  let htpasswdVersion: string | undefined;
  let checkedAt = Number.NEGATIVE_INFINITY;

  function load(fromFile: ConfigUser[]): void {
    users = new Map(fromFile.map((user) => [user.name, user]));
    for (const user of auth.users) users.set(user.name, user); // the config wins over the file
    remembered = new Lru(1024);
  }

  /** The users, with the htpasswd file read again when it changed (`chartroom user add` needs no restart). */
  function currentUsers(): Map<string, ConfigUser> {
    if (auth.htpasswd && now() - checkedAt >= htpasswdCheckMs) {
      checkedAt = now();
      const stats = statSync(auth.htpasswd, { throwIfNoEntry: false });
      const version = stats ? `${stats.mtimeMs}:${stats.size}:${stats.ino}` : 'missing';
      if (version !== htpasswdVersion) {
        htpasswdVersion = version;
        load(stats ? readHtpasswd(auth.htpasswd) : []);
      }
    }
    return users;
  }
  // A missing htpasswd file at start is a mistake in the config: fail now, not at the first login.
  const startFile = auth.htpasswd;
  try {
    load(startFile ? readHtpasswd(startFile) : []);
  } catch (err) {
    throw new ConfigError(`auth.htpasswd: cannot read ${startFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message} (create it with: chartroom user add <name> --htpasswd ${startFile})`);
  }
  currentUsers();

  function groupsOf(user: ConfigUser): Set<string> {
    const groups = new Set(user.groups ?? []);
    for (const [group, members] of Object.entries(auth.groups)) if (members.includes(user.name)) groups.add(group);
    return groups;
  }

  async function robot(name: string, secret: string): Promise<Identity | undefined> {
    const token = await metadata.findRobotToken(name);
    const matches = token !== undefined && timingSafeEqual(Buffer.from(token.secretHash, 'hex'), sha256(secret));
    if (!token || !matches || token.revokedAt !== undefined || (token.expiresAt !== undefined && token.expiresAt <= now())) {
      return undefined;
    }
    return { kind: 'robot', name, scopes: token.scopes };
  }

  return {
    /** The identity a token's subject names, if it still exists (a removed user's tokens stop working). */
    async subject(sub: string): Promise<Identity | undefined> {
      if (sub.startsWith('robot:')) {
        const token = await metadata.findRobotToken(sub.slice(6));
        if (!token || token.revokedAt !== undefined || (token.expiresAt !== undefined && token.expiresAt <= now())) return undefined;
        return { kind: 'robot', name: token.name, scopes: token.scopes };
      }
      const user = currentUsers().get(sub);
      return user && { kind: 'user', name: user.name, groups: groupsOf(user), admin: user.admin === true };
    },

    /** Checks a name and password (or robot secret); undefined when they do not match. */
    async login(name: string, password: string): Promise<Identity | undefined> {
      const users = currentUsers(); // first: a changed htpasswd file forgets remembered logins
      const key = sha256(`${name}\0${password}`).toString('hex');
      const cached = remembered.get(key);
      if (cached && cached.until > now()) return cached.identity;
      let identity: Identity | undefined;
      if (password.startsWith(robotSecretPrefix)) {
        identity = await robot(name, password);
      } else {
        const user = users.get(name);
        const ok = await bcrypt.compare(password, user?.password.replace(/^\$2y\$/, '$2b$') ?? decoyHash());
        if (user && ok) identity = { kind: 'user', name: user.name, groups: groupsOf(user), admin: user.admin === true };
      }
      if (identity) remembered.set(key, { identity, until: now() + rememberMs });
      return identity;
    },
  };
}

export type Credentials = ReturnType<typeof createCredentials>;
