import type { Action } from '../config/schema.js';

export type { Action } from '../config/schema.js';

/** One entry of a token's `access` claim, and of what a request needs. */
export interface Access {
  type: 'repository' | 'registry';
  name: string;
  actions: string[];
}

/** Who is asking: nobody, a user from the config or htpasswd file, or a robot token. */
export type Identity =
  | { kind: 'anonymous' }
  | { kind: 'user'; name: string; groups: ReadonlySet<string>; admin: boolean }
  | { kind: 'robot'; name: string; scopes: readonly RobotScope[] };

/** A robot token's reach: repositories matching a glob, with these actions. */
export interface RobotScope {
  repository: string;
  actions: Action[];
}

export const catalogAccess: Access = { type: 'registry', name: 'catalog', actions: ['*'] };

export function repositoryAccess(name: string, ...actions: Action[]): Access {
  return { type: 'repository', name, actions };
}

/** `team/**` → any depth under team/; `team/*` → one segment; other characters are literal. */
export function globToRegExp(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '*' && pattern[i + 1] === '*') {
      source += '.*';
      i += 1;
    } else if (c === '*') {
      source += '[^/]*';
    } else {
      source += c.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
    }
  }
  return new RegExp(`^${source}$`);
}

const actionPattern = /^(pull|push|delete|\*)$/;

/**
 * Parses scopes as the token spec writes them, `repository:<name>:<actions>` (several per
 * parameter or space separated) and `registry:catalog:*`. Scopes that cannot be read are ignored.
 */
export function parseScopes(values: string[]): Access[] {
  const out: Access[] = [];
  for (const scope of values.flatMap((v) => v.split(' ')).filter(Boolean)) {
    const first = scope.indexOf(':');
    const last = scope.lastIndexOf(':');
    if (first < 0 || last === first) continue;
    const type = scope.slice(0, first);
    const name = scope.slice(first + 1, last);
    const actions = scope.slice(last + 1).split(',').filter((a) => actionPattern.test(a));
    if ((type !== 'repository' && type !== 'registry') || name === '' || actions.length === 0) continue;
    out.push({ type, name, actions });
  }
  return out;
}

export function formatScopes(access: Access[]): string {
  return access.map((a) => `${a.type}:${a.name}:${a.actions.join(',')}`).join(' ');
}
