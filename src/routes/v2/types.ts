import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Registry } from '../../registry/index.js';

export type Method = 'GET' | 'HEAD' | 'PUT' | 'PATCH' | 'POST' | 'DELETE';

/** `params` are the pattern's capture groups: the repository name first, then the rest. */
export type V2Handler = (request: FastifyRequest, reply: FastifyReply, params: string[]) => Promise<unknown>;

export interface V2Resource {
  pattern: RegExp;
  handlers: Partial<Record<Method, V2Handler>>;
}

export type V2ResourceFactory = (registry: Registry) => V2Resource;
