import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Access } from '../auth/access.js';
import type { Authorizer, AuthRequest, Grant, Scheme } from '../auth/authorizer.js';
import { OciError } from '../errors.js';

/**
 * What a route needs before its handler runs. `public`: nothing. `delegated`: the handler
 * learns the repository only by looking it up, and calls `authorize` itself (the v2
 * dispatcher, chart downloads, uploads). Otherwise the scheme and the access wanted.
 */
export type RouteAccess = 'public' | 'delegated' | { scheme: Scheme; wanted: (request: FastifyRequest) => Access[] };

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: RouteAccess;
  }
  interface FastifyRequest {
    /** Set by the access check: who asked and what else they may see. */
    grant?: Grant;
  }
  interface FastifyInstance {
    /** Routes registered without an access declaration (a test requires none). */
    routesWithoutAccess: string[];
  }
}

/** `http(s)://host` as the client addressed us (the forwarded values behind a trusted proxy), for absolute URLs. */
export function requestOrigin(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}`;
}

export function authRequest(request: FastifyRequest): AuthRequest {
  return { authorization: request.headers.authorization, ip: request.ip, origin: requestOrigin(request) };
}

/** Checks a request in a handler that learned late what it needs (`delegated` routes). */
export async function authorize(authorizer: Authorizer, request: FastifyRequest, wanted: Access[], scheme: Scheme): Promise<Grant> {
  request.grant = await authorizer.authorize(authRequest(request), wanted, scheme);
  return request.grant;
}

/** Every route must say what it needs; a route that does not is refused at request time. */
export function registerAccessControl(app: FastifyInstance, authorizer: Authorizer): void {
  const undeclared: string[] = [];
  app.decorate('routesWithoutAccess', undeclared);
  app.addHook('onRoute', (route) => {
    if (route.config?.access === undefined) undeclared.push(`${String(route.method)} ${route.url}`);
  });
  app.addHook('preHandler', async (request) => {
    const access = request.routeOptions.config.access;
    if (access === 'public' || access === 'delegated') return;
    if (access === undefined) {
      // The not-found handler has no route config: nothing to guard there.
      if (request.is404) return;
      throw new OciError('DENIED', 'this route declares no access rule');
    }
    await authorize(authorizer, request, access.wanted(request), access.scheme);
  });
}
