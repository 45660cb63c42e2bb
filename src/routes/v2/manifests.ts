import type { FastifyReply } from 'fastify';
import { repositoryAccess } from '../../auth/access.js';
import type { StoredManifest } from '../../db/metadata.js';
import { changeSource } from '../change-source.js';
import type { V2ResourceFactory } from './types.js';
import { contentLength, header } from './request.js';

function manifestHeaders(reply: FastifyReply, manifest: StoredManifest): FastifyReply {
  return reply.code(200).headers({
    'content-type': manifest.mediaType,
    'docker-content-digest': manifest.digest,
    etag: `"${manifest.digest}"`,
    'content-length': manifest.size,
  });
}

export const manifestsResource: V2ResourceFactory = ({ manifests }) => ({
  pattern: /^\/v2\/(.+)\/manifests\/([^/]+)$/,
  route: '/v2/<name>/manifests/<reference>',
  operations: {
    GET: {
      access: ([name = '']) => ({ required: [repositoryAccess(name, 'pull')] }),
      async handle(_request, reply, [name = '', reference = '']) {
        const manifest = await manifests.get(name, reference);
        return manifestHeaders(reply, manifest).send(manifest.content);
      },
    },
    HEAD: {
      access: ([name = '']) => ({ required: [repositoryAccess(name, 'pull')] }),
      async handle(_request, reply, [name = '', reference = '']) {
        return manifestHeaders(reply, await manifests.get(name, reference)).send();
      },
    },
    PUT: {
      access: ([name = '']) => ({ required: [repositoryAccess(name, 'pull', 'push')] }),
      async handle(request, reply, [name = '', reference = ''], grant) {
      const pushed = await manifests.put(
        name,
        reference,
        { stream: request.raw, length: contentLength(request), contentType: header(request, 'content-type') },
        changeSource(request, grant.identity),
      );
      reply.code(201).headers({
        location: `/v2/${name}/manifests/${pushed.digest}`,
        'docker-content-digest': pushed.digest,
        'content-length': 0,
      });
      if (pushed.subject) reply.header('oci-subject', pushed.subject);
      return reply.send();
      },
    },
    DELETE: {
      access: ([name = '']) => ({ required: [repositoryAccess(name, 'delete')] }),
      async handle(request, reply, [name = '', reference = ''], grant) {
        await manifests.delete(name, reference, changeSource(request, grant.identity));
        return reply.code(202).header('content-length', 0).send();
      },
    },
  },
});
