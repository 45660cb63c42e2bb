import type { Metadata, RobotToken } from '../db/metadata.js';
import { parseDuration } from '../config/duration.js';
import { hashSecret, newRobotSecret } from './credentials.js';


/** `team/**:pull,push` → a repository glob and its actions. */
export function parseRobotScope(text: string): RobotToken['scopes'][number] {
  const colon = text.lastIndexOf(':');
  const repository = text.slice(0, colon);
  const actions = text.slice(colon + 1).split(',');
  if (colon <= 0 || !actions.every((a): a is 'pull' | 'push' | 'delete' => a === 'pull' || a === 'push' || a === 'delete')) {
    throw new Error(`not a scope: ${text} (use <repository glob>:<pull|push|delete>[,…], e.g. team/**:pull,push)`);
  }
  return { repository, actions };
}

/** Robot tokens for CI: the secret is returned once; only its hash is stored. */
export function createRobots(metadata: Metadata, now: () => number) {
  return {
    async create(name: string, scopes: string[], expiresIn?: string): Promise<{ secret: string; token: RobotToken }> {
      if (!/^[a-z0-9][a-z0-9._-]{0,63}$/.test(name)) throw new Error('a robot name is lowercase letters, digits, . _ - (up to 64)');
      if (scopes.length === 0) throw new Error('a robot token needs at least one --scope');
      const secret = newRobotSecret();
      const token: RobotToken = {
        name,
        secretHash: hashSecret(secret),
        scopes: scopes.map(parseRobotScope),
        createdAt: now(),
        expiresAt: expiresIn ? now() + parseDuration(expiresIn) : undefined,
        revokedAt: undefined,
      };
      if (!(await metadata.createRobotToken(token))) throw new Error(`a robot token named ${name} exists already`);
      return { secret, token };
    },
    list: () => metadata.listRobotTokens(),
    async revoke(name: string): Promise<void> {
      if (!(await metadata.revokeRobotToken(name, now()))) throw new Error(`no active robot token named ${name}`);
    },
  };
}
