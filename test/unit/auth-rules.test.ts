import t from 'tap';
import { compileRules } from '../../src/auth/rules.js';
import type { Action, Identity } from '../../src/auth/access.js';
import { globToRegExp, parseScopes } from '../../src/auth/access.js';
import { exampleAuth } from '../helpers/auth.js';

const rules = compileRules(exampleAuth['auth.rules']);
const user = (name: string, groups: string[] = [], admin = false): Identity => ({ kind: 'user', name, groups: new Set(groups), admin });

// Every user × repository × action, and exactly what the example rules grant.
const expected: Record<string, Record<string, Action[]>> = {
  anonymous: { 'team/app': [], 'team/a/b': [], 'secret/db': [], 'public/web': ['pull'], other: [] },
  alice: { 'team/app': ['pull', 'push', 'delete'], 'team/a/b': ['pull', 'push', 'delete'], 'secret/db': [], 'public/web': ['pull', 'push'], other: [] },
  'ci-bot': { 'team/app': ['pull', 'push'], 'team/a/b': ['pull', 'push'], 'secret/db': [], 'public/web': ['pull'], other: [] },
  olga: { 'team/app': ['pull'], 'team/a/b': ['pull'], 'secret/db': ['pull', 'push', 'delete'], 'public/web': ['pull'], other: [] },
  paul: { 'team/app': ['pull'], 'team/a/b': ['pull'], 'secret/db': [], 'public/web': ['pull'], other: [] },
  root: { 'team/app': ['pull', 'push', 'delete'], 'team/a/b': ['pull', 'push', 'delete'], 'secret/db': ['pull', 'push', 'delete'], 'public/web': ['pull', 'push', 'delete'], other: ['pull', 'push', 'delete'] },
  robot: { 'team/app': ['pull', 'push'], 'team/a/b': [], 'secret/db': [], 'public/web': [], other: [] },
};

const identities: Record<string, Identity> = {
  anonymous: { kind: 'anonymous' },
  alice: user('alice', ['devs']),
  'ci-bot': user('ci-bot'),
  olga: user('olga', ['ops']),
  paul: user('paul'),
  root: user('root', [], true),
  robot: { kind: 'robot', name: 'ci', scopes: [{ repository: 'team/*', actions: ['push'] }] },
};

t.test('users × repositories × actions: no unexpected grant', async (t) => {
  for (const [who, repos] of Object.entries(expected)) {
    for (const [repository, actions] of Object.entries(repos)) {
      const granted = [...rules.allowed(identities[who] as Identity, repository)].sort();
      t.same(granted, [...actions].sort(), `${who} on ${repository}`);
    }
  }
});

t.test('globs and scopes', async (t) => {
  t.ok(globToRegExp('team/**').test('team/a/b/c'));
  t.notOk(globToRegExp('team/*').test('team/a/b'));
  t.notOk(globToRegExp('team/**').test('teamx/a'));
  t.notOk(globToRegExp('a.b/*').test('axb/c'), 'dots are literal');
  t.same(parseScopes(['repository:team/app:pull,push', 'registry:catalog:* repository:x:bogus', 'nonsense', 'repository::pull', 'user:x:pull']), [
    { type: 'repository', name: 'team/app', actions: ['pull', 'push'] },
    { type: 'registry', name: 'catalog', actions: ['*'] },
  ]);
});

t.test('no rule, no access; first match decides', async (t) => {
  const ordered = compileRules([
    { repository: 'team/private/**', pull: ['alice'] },
    { repository: 'team/**', pull: ['*'] },
  ]);
  t.same([...ordered.allowed(user('paul'), 'team/private/x')], [], 'the narrower rule comes first and decides');
  t.same([...ordered.allowed(user('paul'), 'team/other')], ['pull']);
  t.same([...compileRules([]).allowed(user('paul'), 'anything')], []);
});
