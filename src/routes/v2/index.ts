import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Authorizer } from '../../auth/authorizer.js';
import { OciError } from '../../errors.js';
import { authRequest } from '../access.js';
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
export async function v2Routes(app: FastifyInstance, options: { registry: Registry; authorizer: Authorizer }): Promise<void> {
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
    // Any valid token will do: this is how clients find out whether, and where, to log in.
    config: { access: { scheme: 'bearer', wanted: () => [] } },
    handler: async (_request, reply) => reply.code(200).type('application/json').send('{}'),
  });

  app.route({
    method: methods,
    url: '/v2/*',
    config: { access: 'delegated' },
    handler: async (request: FastifyRequest, reply: FastifyReply) => {
      const path = request.url.split('?', 1)[0] as string;
      for (const resource of resources) {
        const match = resource.pattern.exec(path);
        if (!match) continue;
        request.metricsRoute = resource.route;
        const operation = resource.operations[request.method as Method];
        if (!operation) {
          throw new OciError('UNSUPPORTED', `${request.method} is not supported here`, {
            status: 405,
            headers: { allow: Object.keys(resource.operations).join(', ') },
          });
        }
        const params = match.slice(1).map((part) => part ?? '');
        const { required, optional = [] } = operation.access(params, request);
        const grant = await options.authorizer.authorize(authRequest(request), required, 'bearer', optional);
        return operation.handle(request, reply, params, grant);
      }
      throw new OciError('NOT_FOUND', 'no such endpoint in the OCI Distribution API');
    },
  });
}
