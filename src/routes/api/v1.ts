import type { FastifyInstance, FastifyRequest } from 'fastify';
import { OciError } from '../../errors.js';
import type { Registry } from '../../registry/index.js';
import { repositoryAccess } from '../../auth/access.js';
import type { Authorizer } from '../../auth/authorizer.js';
import { authorize, requestOrigin } from '../access.js';
import { wholeNumberParam } from '../query.js';
import { queryParam } from '../v2/request.js';

const fileTypes = { readme: 'text/markdown; charset=utf-8', values: 'application/yaml; charset=utf-8', 'values-schema': 'application/json' } as const;

/**
 * Chartroom's JSON API for charts: `/api/v1/search` (see src/search), `/api/v1/namespaces`, `/api/v1/charts[?namespace=&sort=name|updated&offset=&limit=]`,
 * `/api/v1/charts/<repository>`, `…/versions/<version>` and `…/versions/<version>/{readme,values,values-schema}`;
 * `/api/v1/me`: whether access control is on and who the caller is (the web UI's sign-in button).
 */
export async function apiV1Routes(app: FastifyInstance, options: { registry: Registry; authorizer: Authorizer }): Promise<void> {
  const { chartCatalog, chartSearch } = options.registry;
  const { authorizer } = options;
  // Lists show only what the caller may pull.
  const listing = { access: { scheme: 'basic', wanted: () => [] } } as const;
  const visible = (request: FastifyRequest) => (authorizer.enabled ? (r: string) => request.grant?.may(r, 'pull') === true : undefined);

  app.get('/api/v1/search', { config: listing }, async (request) =>
    chartSearch.search(request.query as Record<string, unknown>, visible(request)),
  );

  // What `helm search hub --endpoint http://HOST` calls (the Monocular chart service's search).
  app.get('/api/chartsvc/v1/charts/search', { config: listing }, async (request) =>
    chartSearch.monocular((request.query as Record<string, unknown>).q, requestOrigin(request), visible(request)),
  );

  app.get('/api/v1/me', { config: listing }, async (request) => {
    const identity = request.grant?.identity;
    return { auth: authorizer.enabled, user: identity && identity.kind !== 'anonymous' ? identity.name : null };
  });

  app.get('/api/v1/namespaces', { config: listing }, async (request) => ({ namespaces: await chartCatalog.namespaces(visible(request)) }));

  app.get('/api/v1/charts', { config: listing }, async (request) => {
    const sort = queryParam(request, 'sort') ?? 'name';
    if (sort !== 'name' && sort !== 'updated') throw new OciError('BAD_REQUEST', 'sort must be name or updated');
    const page = { offset: wholeNumberParam(request, 'offset', false) ?? 0, limit: wholeNumberParam(request, 'limit', true) };
    return chartCatalog.chartPage(queryParam(request, 'namespace'), sort, page, visible(request));
  });

  app.get('/api/v1/charts/*', { config: { access: 'delegated' } }, async (request, reply) => {
    const path = (request.params as { '*': string })['*'];
    const repository = /^(.+?)(?:\/versions\/.*)?$/.exec(path)?.[1] ?? path;
    await authorize(authorizer, request, [repositoryAccess(repository, 'pull')], 'basic');
    const file = /^(.+)\/versions\/([^/]+)\/(readme|values|values-schema)$/.exec(path);
    if (file) {
      const which = file[3] as keyof typeof fileTypes;
      return reply.type(fileTypes[which]).send(await chartCatalog.file(file[1] as string, file[2] as string, which));
    }
    const version = /^(.+)\/versions\/([^/]+)$/.exec(path);
    if (version) return chartCatalog.version(version[1] as string, version[2] as string, request.host);
    return chartCatalog.chart(path);
  });
}
