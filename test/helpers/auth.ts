import bcrypt from 'bcryptjs';

/** Users for auth tests; passwords are the names reversed, hashed cheaply (cost 4). */
export function testUser(name: string, extra: { groups?: string[]; admin?: boolean } = {}) {
  return { name, password: bcrypt.hashSync(passwordOf(name), 4), ...extra };
}

export function passwordOf(name: string): string {
  return `${[...name].reverse().join('')}-secret`;
}

export function basic(name: string, password = passwordOf(name)): string {
  return `Basic ${Buffer.from(`${name}:${password}`).toString('base64')}`;
}

/** The issue's example: team/** devs and ci-bot push, everyone signed in pulls; secret/** only ops; public/** anonymous pull. */
export const exampleAuth = {
  'auth.enabled': true,
  'auth.users': [
    testUser('alice', { groups: ['devs'] }),
    testUser('ci-bot'),
    testUser('olga', { groups: ['ops'] }),
    testUser('paul'),
    testUser('root', { admin: true }),
  ],
  'auth.groups': { ops: ['olga'] },
  'auth.rules': [
    { repository: 'team/**', pull: ['*'], push: ['devs', 'ci-bot'], delete: ['devs'] },
    { repository: 'secret/**', pull: ['ops'], push: ['ops'], delete: ['ops'] },
    { repository: 'public/**', pull: ['anonymous'], push: ['devs'] },
  ],
  'auth.tokenSeconds': 60,
};
