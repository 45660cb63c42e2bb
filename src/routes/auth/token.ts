import { parse as parseQuery } from 'node:querystring';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { parseScopes, type Identity } from '../../auth/access.js';
import type { Authorizer } from '../../auth/authorizer.js';
import type { Credentials } from '../../auth/credentials.js';
import type { TokenSigner } from '../../auth/tokens.js';
import type { AuthConfig } from '../../config/schema.js';
import { OciError } from '../../errors.js';
import { authRequest } from '../access.js';

export interface TokenRouteOptions {
  auth: AuthConfig;
  authorizer: Authorizer;
  signer: TokenSigner;
  credentials: Credentials;
}

function list(value: unknown): string[] {
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return typeof value === 'string' ? [value] : [];
}

/**
 * The Docker registry token service at `/auth/token`: GET with optional Basic credentials
 * (an empty user name with a password means a refresh token) and the OAuth2 POST form
 * (password and refresh_token grants). The token grants the overlap of what was asked and
 * what the rules allow. Public keys at `/auth/jwks.json`.
 */
export async function tokenRoutes(app: FastifyInstance, options: TokenRouteOptions): Promise<void> {
  const { auth, authorizer, signer, credentials } = options;
  const config = { access: 'public' as const };

  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 64 * 1024 }, (_request, body, done) => {
    done(null, parseQuery(body as string));
  });

  async function fromRefresh(request: FastifyRequest, token: string): Promise<Identity> {
    try {
      const { subject } = await signer.verify(token, 'refresh');
      const identity = await credentials.subject(subject);
      if (identity) return identity;
    } catch {
      // fall through: any failure is the same 401
    }
    throw new OciError('UNAUTHORIZED', 'invalid or expired refresh token', {
      headers: { 'www-authenticate': `Basic realm="${auth.service}"` },
    });
  }

  async function reply(identity: Identity, service: unknown, scopes: string[], offline: boolean) {
    if (service !== undefined && service !== auth.service) throw new OciError('BAD_REQUEST', `unknown service: ${String(service).slice(0, 80)}`);
    const access = authorizer.grantable(identity, parseScopes(scopes));
    const subject = identity.kind === 'anonymous' ? '' : identity.kind === 'robot' ? `robot:${identity.name}` : identity.name;
    const token = await signer.issueAccess(subject, access);
    return {
      token,
      access_token: token,
      expires_in: auth.tokenSeconds,
      issued_at: new Date().toISOString(),
      ...(offline && identity.kind !== 'anonymous' ? { refresh_token: await signer.issueRefresh(subject) } : {}),
    };
  }

  app.get('/auth/token', { config }, async (request) => {
    const query = request.query as Record<string, unknown>;
    const header = request.headers.authorization ?? '';
    let identity: Identity = { kind: 'anonymous' };
    if (/^basic\s+/i.test(header)) {
      const decoded = Buffer.from(header.replace(/^basic\s+/i, ''), 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) throw new OciError('UNAUTHORIZED', 'malformed Basic credentials');
      const name = decoded.slice(0, colon);
      const password = decoded.slice(colon + 1);
      identity = name === '' ? await fromRefresh(request, password) : await authorizer.login(authRequest(request), name, password, 'basic');
    } else if (header !== '') {
      throw new OciError('UNAUTHORIZED', 'the token service takes Basic credentials', {
        headers: { 'www-authenticate': `Basic realm="${auth.service}"` },
      });
    }
    return reply(identity, query.service, list(query.scope), query.offline_token === 'true');
  });

  app.post('/auth/token', { config }, async (request) => {
    const form = (request.body ?? {}) as Record<string, unknown>;
    let identity: Identity;
    if (form.grant_type === 'password' && typeof form.username === 'string' && typeof form.password === 'string') {
      identity = await authorizer.login(authRequest(request), form.username, form.password, 'basic');
    } else if (form.grant_type === 'refresh_token' && typeof form.refresh_token === 'string') {
      identity = await fromRefresh(request, form.refresh_token);
    } else {
      throw new OciError('BAD_REQUEST', 'grant_type must be password (with username and password) or refresh_token');
    }
    return reply(identity, form.service, list(form.scope), true);
  });

  for (const url of ['/auth/jwks.json', '/.well-known/jwks.json']) app.get(url, { config }, async () => signer.jwks);
}
