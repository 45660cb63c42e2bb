import { repositoryAccess } from '../../auth/access.js';
import { parsePage } from '../../registry/listing.js';
import type { V2ResourceFactory } from './types.js';
import { linkNext, queryParam } from './request.js';

export const tagsResource: V2ResourceFactory = ({ listing }) => ({
  pattern: /^\/v2\/(.+)\/tags\/list$/,
  route: '/v2/<name>/tags/list',
  operations: {
    GET: {
      access: ([name = '']) => ({ required: [repositoryAccess(name, 'pull')] }),
      async handle(request, reply, [name = '']) {
      const page = await listing.tags(name, parsePage(queryParam(request, 'n'), queryParam(request, 'last')));
      linkNext(reply, `/v2/${name}/tags/list`, page);
      return reply.code(200).type('application/json').send(page.document);
      },
    },
  },
});
