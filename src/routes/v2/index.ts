import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { OciError } from '../../errors.js';
import type { Registry } from '../../registry/index.js';
import { blobsResource } from './blobs.js';
import { catalogResource } from './catalog.js';
import { manifestsResource } from './manifests.js';
import { referrersResource } from './referrers.js';
import { tagsResource } from './tags.js';
import type { Method, V2Resource } from './types.js';
import { uploadsResource } from './uploads.js';

const methods: Method[] = ['GET', 'HEAD', 'PUT', 'PATCH', 'POST', 'DELETE'];
const apiVersion = { 'docker-distribution-api-version': 'registry/2.0' };

/**
 * The OCI Distribution API. Repository names hold slashes, so paths are matched against each
 * resource's pattern from the right rather than by the router; uploads come before blobs.
 */
export async function v2Routes(app: FastifyInstance, options: { registry: Registry }): Promise<void> {
  const resources: V2Resource[] = [uploadsResource, blobsResource, manifestsResource, tagsResource, referrersResource, catalogResource].map(
    (factory) => factory(options.registry),
  );

  // Upload and manifest bodies are streamed by the handlers, whatever their Content-Type.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, _payload, done) => done(null));

  app.addHook('onRequest', async (_request, reply) => {
    reply.headers(apiVersion);
  });

  app.route({
    method: ['GET', 'HEAD'],
    url: '/v2/',
    handler: async (_request, reply) => reply.code(200).type('application/json').send('{}'),
  });

  app.route({
    method: methods,
    url: '/v2/*',
    handler: async (request: FastifyRequest, reply: FastifyReply) => {
      const path = request.url.split('?', 1)[0] as string;
      for (const resource of resources) {
        const match = resource.pattern.exec(path);
        if (!match) continue;
        const handler = resource.handlers[request.method as Method];
        if (!handler) {
          throw new OciError('UNSUPPORTED', `${request.method} is not supported here`, {
            status: 405,
            headers: { allow: Object.keys(resource.handlers).join(', ') },
          });
        }
        return handler(request, reply, match.slice(1).map((part) => part ?? ''));
      }
      throw new OciError('NOT_FOUND', 'no such endpoint in the OCI Distribution API');
    },
  });
}
