import type { AccessRule, Action } from '../config/schema.js';
import { globToRegExp, type Identity } from './access.js';

const allActions: Action[] = ['pull', 'push', 'delete'];

interface CompiledRule {
  pattern: RegExp;
  principals: Record<Action, readonly string[]>;
}

function matches(principal: string, identity: Identity): boolean {
  if (principal === 'anonymous') return true;
  if (identity.kind === 'anonymous') return false;
  if (principal === '*') return true;
  if (identity.kind === 'robot') return false;
  return principal === identity.name || identity.groups.has(principal);
}

/**
 * The access rules of the config. The first rule whose repository pattern matches decides;
 * no matching rule means nothing is allowed. `push` includes `pull`. Admins may do anything;
 * robots may do what their token's scopes say, and nothing else.
 */
export function compileRules(rules: readonly AccessRule[]) {
  const compiled: CompiledRule[] = rules.map((rule) => ({
    pattern: globToRegExp(rule.repository),
    principals: { pull: rule.pull ?? [], push: rule.push ?? [], delete: rule.delete ?? [] },
  }));

  return {
    allowed(identity: Identity, repository: string): Set<Action> {
      if (identity.kind === 'user' && identity.admin) return new Set(allActions);
      if (identity.kind === 'robot') {
        const granted = new Set<Action>();
        for (const scope of identity.scopes) {
          if (globToRegExp(scope.repository).test(repository)) for (const action of scope.actions) granted.add(action);
        }
        if (granted.has('push')) granted.add('pull');
        return granted;
      }
      const rule = compiled.find((r) => r.pattern.test(repository));
      const granted = new Set<Action>();
      if (!rule) return granted;
      for (const action of allActions) {
        if (rule.principals[action].some((principal) => matches(principal, identity))) granted.add(action);
      }
      if (granted.has('push')) granted.add('pull');
      return granted;
    },
  };
}

export type Rules = ReturnType<typeof compileRules>;
