import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Body } from '../../registry/uploads.js';

/** One query parameter as a string; repeated parameters count by their first value. */
export function queryParam(request: FastifyRequest, name: string): string | undefined {
  const value = (request.query as Record<string, unknown>)[name];
  const first = Array.isArray(value) ? value[0] : value;
  return typeof first === 'string' ? first : undefined;
}

export function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export function contentLength(request: FastifyRequest): number | undefined {
  const value = header(request, 'content-length');
  return value !== undefined && /^\d+$/.test(value) ? Number(value) : undefined;
}

/** The raw request body as a stream; the v2 routes never let the framework parse bodies. */
export function requestBody(request: FastifyRequest): Body {
  const length = contentLength(request);
  const chunked = header(request, 'transfer-encoding') !== undefined;
  return { stream: request.raw, present: chunked || (length ?? 0) > 0, length };
}

/** RFC 5988 `Link` to the next page, relative like every Location we send. */
export function linkNext(reply: FastifyReply, path: string, page: { next?: { n: number; last: string } }): void {
  if (!page.next) return;
  const query = new URLSearchParams({ n: String(page.next.n), last: page.next.last });
  reply.header('link', `<${path}?${query.toString()}>; rel="next"`);
}
