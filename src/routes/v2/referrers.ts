import { repositoryAccess } from '../../auth/access.js';
import type { V2ResourceFactory } from './types.js';
import { queryParam } from './request.js';

export const referrersResource: V2ResourceFactory = ({ listing }) => ({
  pattern: /^\/v2\/(.+)\/referrers\/([^/]+)$/,
  route: '/v2/<name>/referrers/<digest>',
  operations: {
    GET: {
      access: ([name = '']) => ({ required: [repositoryAccess(name, 'pull')] }),
      async handle(request, reply, [name = '', digest = '']) {
      const artifactType = queryParam(request, 'artifactType');
      const index = await listing.referrers(name, digest, artifactType);
      if (artifactType !== undefined) reply.header('oci-filters-applied', 'artifactType');
      return reply.code(200).type(index.mediaType).send(Buffer.from(JSON.stringify(index)));
      },
    },
  },
});
