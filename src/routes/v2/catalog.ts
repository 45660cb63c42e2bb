import { catalogAccess } from '../../auth/access.js';
import { parsePage } from '../../registry/listing.js';
import type { V2ResourceFactory } from './types.js';
import { linkNext, queryParam } from './request.js';

export const catalogResource: V2ResourceFactory = ({ listing }) => ({
  pattern: /^\/v2\/_catalog$/,
  route: '/v2/_catalog',
  operations: {
    GET: {
      access: () => ({ required: [catalogAccess] }),
      async handle(request, reply, _params, grant) {
      const page = await listing.catalog(parsePage(queryParam(request, 'n'), queryParam(request, 'last')), (repository) =>
        grant.may(repository, 'pull'),
      );
      linkNext(reply, '/v2/_catalog', page);
      return reply.code(200).send({ repositories: page.items });
      },
    },
  },
});
