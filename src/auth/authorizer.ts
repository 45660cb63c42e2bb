import type { AuthConfig } from '../config/schema.js';
import { OciError } from '../errors.js';
import { Lru } from '../registry/lru.js';
import { formatScopes, type Access, type Action, type Identity } from './access.js';
import type { Credentials } from './credentials.js';
import type { Rules } from './rules.js';
import type { TokenSigner } from './tokens.js';

/** What the authorizer needs of a request, without the web framework. */
export interface AuthRequest {
  authorization: string | undefined;
  /** Client address, for rate-limiting failed logins. */
  ip: string;
  /** `http(s)://host`, for the token realm in challenges. */
  origin: string;
}

/** The outcome of a check: who asked, and a test for other repositories (for filtered lists). */
export interface Grant {
  identity: Identity;
  /** By the rules: for filtering lists (catalog, indexes, search). */
  may(repository: string, action: Action): boolean;
  /** By the token's claims when there is a token, else by the rules: for optional extras (a mount's source). */
  covers(access: Access): boolean;
}

/** How a route takes credentials: the OCI API only Bearer tokens, the other APIs Basic too. */
export type Scheme = 'bearer' | 'basic';

const anonymous: Identity = { kind: 'anonymous' };

function parseBasic(value: string): { name: string; password: string } | undefined {
  let decoded: string;
  try {
    decoded = Buffer.from(value, 'base64').toString('utf8');
  } catch {
    return undefined;
  }
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : { name: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** Token access covers what is wanted when every wanted action is in a claim for the same resource. */
function covers(granted: Access[], wanted: Access): boolean {
  return wanted.actions.every((action) =>
    granted.some((g) => g.type === wanted.type && g.name === wanted.name && (g.actions.includes(action) || g.actions.includes('*'))),
  );
}

/**
 * The one place that decides access. Auth off: everything is allowed. Auth on: the OCI API
 * takes Bearer tokens from the token service and answers 401 with a challenge naming exactly
 * the scope it needs; the other APIs also take Basic credentials; rules decide the rest.
 */
export function createAuthorizer(auth: AuthConfig, signer: TokenSigner | undefined, credentials: Credentials | undefined, rules: Rules, now: () => number) {
  const verified = new Lru<string, { identity: Identity; access: Access[]; until: number }>(4096);
  const failures = new Map<string, { count: number; since: number }>();

  function unauthorized(request: AuthRequest, scheme: Scheme, wanted: Access[], message = 'authentication required'): OciError {
    const challenge =
      scheme === 'bearer'
        ? `Bearer realm="${request.origin}/auth/token",service="${auth.service}"${wanted.length ? `,scope="${formatScopes(wanted)}"` : ''}`
        : `Basic realm="${auth.service}"`;
    return new OciError('UNAUTHORIZED', message, { headers: { 'www-authenticate': challenge }, detail: wanted });
  }

  /** Failed logins per client per minute; over the limit even a right password waits. */
  function checkRate(ip: string): void {
    const entry = failures.get(ip);
    if (entry && now() - entry.since < 60_000 && entry.count >= auth.failedLoginsPerMinute) {
      throw new OciError('TOOMANYREQUESTS', 'too many failed logins; try again in a minute', { headers: { 'retry-after': '60' } });
    }
  }

  function recordFailure(ip: string): void {
    const entry = failures.get(ip);
    if (!entry || now() - entry.since >= 60_000) failures.set(ip, { count: 1, since: now() });
    else entry.count += 1;
    if (failures.size > 10_000) failures.clear();
  }

  /** Name and password → identity; wrong ones count against the client and are 401. */
  async function login(request: AuthRequest, name: string, password: string, scheme: Scheme): Promise<Identity> {
    checkRate(request.ip);
    const identity = credentials ? await credentials.login(name, password) : undefined;
    if (!identity) {
      recordFailure(request.ip);
      throw unauthorized(request, scheme, [], 'invalid username or password');
    }
    return identity;
  }

  async function bearer(request: AuthRequest, token: string, scheme: Scheme, wanted: Access[]): Promise<{ identity: Identity; access: Access[] }> {
    const cached = verified.get(token);
    if (cached && cached.until > now()) return cached;
    let subject: string;
    let access: Access[];
    try {
      ({ subject, access } = await (signer as TokenSigner).verify(token, 'access'));
    } catch {
      throw unauthorized(request, scheme, wanted, 'invalid or expired token');
    }
    const identity = subject === '' ? anonymous : await credentials?.subject(subject);
    if (!identity) throw unauthorized(request, scheme, wanted, 'the token names an unknown user');
    verified.set(token, { identity, access, until: now() + 30_000 });
    return { identity, access };
  }

  function grantFor(identity: Identity, token?: Access[]): Grant {
    const may = (repository: string, action: Action): boolean => rules.allowed(identity, repository).has(action);
    return {
      identity,
      may,
      covers: (access) =>
        token ? covers(token, access) : access.type === 'repository' && access.actions.every((action) => may(access.name, action as Action)),
    };
  }

  return {
    enabled: auth.enabled,
    login,
    grantFor,
    /** The 401 a handler throws when it finds, late, that an anonymous caller needs to sign in. */
    challenge: (request: AuthRequest, scheme: Scheme, wanted: Access[] = []) => unauthorized(request, scheme, wanted),

    /** What a token may carry: the overlap of what was asked and what the rules allow. */
    grantable(identity: Identity, asked: Access[]): Access[] {
      const out: Access[] = [];
      for (const a of asked) {
        const allowed =
          a.type === 'registry'
            ? a.name === 'catalog' && identity.kind !== 'anonymous'
              ? ['*']
              : []
            : [...rules.allowed(identity, a.name)].filter((action) => a.actions.includes(action) || a.actions.includes('*'));
        if (allowed.length > 0) out.push({ type: a.type, name: a.name, actions: allowed });
      }
      return out;
    },

    /** Checks a request for `wanted`; throws UNAUTHORIZED (with a challenge) or DENIED. */
    async authorize(request: AuthRequest, wanted: Access[], scheme: Scheme, optional: Access[] = []): Promise<Grant> {
      if (!auth.enabled) return { identity: anonymous, may: () => true, covers: () => true };
      const header = (request.authorization ?? '').trim();
      const [kind = '', value = ''] = header.split(/\s+/, 2);
      let identity: Identity = anonymous;
      let tokenAccess: Access[] | undefined;
      if (/^bearer$/i.test(kind) && value) {
        ({ identity, access: tokenAccess } = await bearer(request, value, scheme, [...wanted, ...optional]));
      } else if (scheme === 'basic' && /^basic$/i.test(kind) && value) {
        const basic = parseBasic(value);
        if (!basic) throw unauthorized(request, scheme, wanted, 'malformed Basic credentials');
        identity = await login(request, basic.name, basic.password, scheme);
      } else if (header !== '' || scheme === 'bearer') {
        // The OCI API speaks only Bearer: without a token, the challenge starts the token flow.
        throw unauthorized(request, scheme, [...wanted, ...optional]);
      }
      const grant = grantFor(identity, tokenAccess);
      for (const access of wanted) {
        const allowed = tokenAccess
          ? covers(tokenAccess, access)
          : access.type === 'registry'
            ? identity.kind !== 'anonymous'
            : access.actions.every((action) => grant.may(access.name, action as Action));
        if (!allowed) {
          // Not signed in (with or without an anonymous token): signing in may help, so challenge.
          if (identity.kind === 'anonymous') throw unauthorized(request, scheme, [...wanted, ...optional]);
          throw new OciError('DENIED', 'requested access to the resource is denied', { detail: [access] });
        }
      }
      return grant;
    },
  };
}

export type Authorizer = ReturnType<typeof createAuthorizer>;
