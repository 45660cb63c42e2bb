import type { FastifyRequest } from 'fastify';
import { OciError } from '../errors.js';

/** A query parameter that must be a whole number (above zero when `positive`); undefined when absent, a 400 when malformed. */
export function wholeNumberParam(request: FastifyRequest, name: string, positive: boolean): number | undefined {
  const value = (request.query as Record<string, unknown>)[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^\d{1,9}$/.test(value) || (positive && Number(value) === 0)) {
    throw new OciError('BAD_REQUEST', `${name} is not a valid ${positive ? 'positive' : 'non-negative'} integer`);
  }
  return Number(value);
}
