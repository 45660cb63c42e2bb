import type { FastifyReply } from 'fastify';
import { repositoryAccess } from '../../auth/access.js';
import type { BlobRead } from '../../registry/blobs.js';
import { sendBlobContent, sendRedirect } from '../blob-content.js';
import type { V2ResourceFactory } from './types.js';
import { header } from './request.js';

function blobHeaders(reply: FastifyReply, blob: BlobRead): FastifyReply {
  return reply.headers({
    'content-type': 'application/octet-stream',
    'docker-content-digest': blob.digest,
    etag: `"${blob.digest}"`,
    'accept-ranges': 'bytes',
    // Content-addressed: the bytes behind a digest never change.
    'cache-control': 'max-age=31536000, immutable',
  });
}

export const blobsResource: V2ResourceFactory = ({ blobs }) => ({
  pattern: /^\/v2\/(.+)\/blobs\/([^/]+)$/,
  route: '/v2/<name>/blobs/<digest>',
  operations: {
    HEAD: {
      access: ([name = '']) => ({ required: [repositoryAccess(name, 'pull')] }),
      async handle(_request, reply, [name = '', digest = '']) {
        const blob = await blobs.head(name, digest);
        return blobHeaders(reply, blob).header('content-length', blob.size).code(200).send();
      },
    },
    GET: {
      access: ([name = '']) => ({ required: [repositoryAccess(name, 'pull')] }),
      async handle(request, reply, [name = '', digest = '']) {
        const blob = await blobs.get(name, digest, header(request, 'range'));
        blobHeaders(reply, blob);
        if (blob.redirect !== undefined) return sendRedirect(reply, blob.redirect);
        if (blob.range) {
          const { start, end } = blob.range;
          reply.code(206).header('content-range', `bytes ${start}-${end}/${blob.size}`);
        } else {
          reply.code(200);
        }
        if (!blob.content) return reply.header('content-length', 0).send();
        return sendBlobContent(reply.header('content-length', blob.content.length), blob.content);
      },
    },
    DELETE: {
      access: ([name = '']) => ({ required: [repositoryAccess(name, 'delete')] }),
      async handle(_request, reply, [name = '', digest = '']) {
        await blobs.delete(name, digest);
        return reply.code(202).header('content-length', 0).send();
      },
    },
  },
});
