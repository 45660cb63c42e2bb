import type { FastifyRequest } from 'fastify';
import type { Identity } from '../auth/access.js';
import type { ChangeSource } from '../registry/changes.js';
import { requestOrigin } from './access.js';

/** Who is changing the registry and through which address, as plain data for the rules (and the events they emit). */
export function changeSource(request: FastifyRequest, identity: Identity): ChangeSource {
  return {
    actor: identity.kind === 'anonymous' ? { kind: 'anonymous' } : { kind: identity.kind, name: identity.name },
    requestId: request.id,
    host: request.host,
    origin: requestOrigin(request),
  };
}
