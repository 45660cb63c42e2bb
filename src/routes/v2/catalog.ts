import { parsePage } from '../../registry/listing.js';
import type { V2ResourceFactory } from './types.js';
import { linkNext, queryParam } from './request.js';

export const catalogResource: V2ResourceFactory = ({ listing }) => ({
  pattern: /^\/v2\/_catalog$/,
  handlers: {
    async GET(request, reply) {
      const page = await listing.catalog(parsePage(queryParam(request, 'n'), queryParam(request, 'last')));
      linkNext(reply, '/v2/_catalog', page);
      return reply.code(200).send({ repositories: page.items });
    },
  },
});
