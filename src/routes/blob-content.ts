import type { FastifyReply } from 'fastify';
import type { BlobContent } from '../storage/blob-store.js';
import { DestinationClosedError } from '../storage/file-sender.js';

const smallBlobBytes = 64 * 1024;

/**
 * Sends blob bytes with the headers and status set on `reply`. The store writes straight into the
 * response (see file-sender.ts) instead of through a stream Fastify pipes; the response-end hooks
 * (access log, metrics) still run.
 */
export async function sendBlobContent(reply: FastifyReply, content: BlobContent): Promise<FastifyReply> {
  if (content.length <= smallBlobBytes) {
    try {
      return reply.send(await content.bytes());
    } finally {
      await content.close();
    }
  }
  reply.hijack();
  const response = reply.raw;
  try {
    for (const [name, value] of Object.entries(reply.getHeaders())) if (value !== undefined) response.setHeader(name, value);
    response.writeHead(reply.statusCode);
    await content.writeTo(response);
    response.end();
  } catch (err) {
    // Headers are out: all that is left is to cut the response short so the client sees it failed.
    if (err instanceof DestinationClosedError || response.destroyed) reply.log.debug({ err }, 'the client left before the blob was sent');
    else reply.log.error({ err }, 'sending a blob failed');
    response.destroy();
  } finally {
    await content.close().catch(() => undefined);
  }
  return reply;
}

/**
 * Sends the client to fetch the bytes elsewhere (a presigned URL that expires): 307, so the
 * method and a Range header go along, and never cached, unlike the bytes themselves.
 */
export function sendRedirect(reply: FastifyReply, location: string): FastifyReply {
  return reply.code(307).headers({ location, 'cache-control': 'no-store', 'content-length': 0 }).send();
}
