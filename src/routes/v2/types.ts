import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Access } from '../../auth/access.js';
import type { Grant } from '../../auth/authorizer.js';
import type { Registry } from '../../registry/index.js';

export type Method = 'GET' | 'HEAD' | 'PUT' | 'PATCH' | 'POST' | 'DELETE';

/** `params` are the pattern's capture groups: the repository name first, then the rest. */
export type V2Handler = (request: FastifyRequest, reply: FastifyReply, params: string[], grant: Grant) => Promise<unknown>;

export interface V2Operation {
  /** What the request needs, from its path parameters (and query, for mounts). */
  access: (params: string[], request: FastifyRequest) => { required: Access[]; optional?: Access[] };
  handle: V2Handler;
}

export interface V2Resource {
  pattern: RegExp;
  /** The path with placeholders, as metrics label it. */
  route: string;
  operations: Partial<Record<Method, V2Operation>>;
}

export type V2ResourceFactory = (registry: Registry) => V2Resource;
