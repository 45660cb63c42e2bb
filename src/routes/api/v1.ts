import type { FastifyInstance, FastifyRequest } from 'fastify';
import { OciError } from '../../errors.js';
import type { Registry } from '../../registry/index.js';

const fileTypes = { readme: 'text/markdown; charset=utf-8', values: 'application/yaml; charset=utf-8', 'values-schema': 'application/json' } as const;

function query(request: FastifyRequest, name: string): string | undefined {
  const value = (request.query as Record<string, unknown>)[name];
  return typeof value === 'string' ? value : undefined;
}

/**
 * Chartroom's JSON API for charts: `/api/v1/namespaces`, `/api/v1/charts[?namespace=&sort=name|updated]`,
 * `/api/v1/charts/<repository>`, `…/versions/<version>` and `…/versions/<version>/{readme,values,values-schema}`.
 */
export async function apiV1Routes(app: FastifyInstance, options: { registry: Registry }): Promise<void> {
  const { chartCatalog } = options.registry;

  app.get('/api/v1/namespaces', async () => ({ namespaces: await chartCatalog.namespaces() }));

  app.get('/api/v1/charts', async (request) => {
    const sort = query(request, 'sort') ?? 'name';
    if (sort !== 'name' && sort !== 'updated') throw new OciError('BAD_REQUEST', 'sort must be name or updated');
    return { charts: await chartCatalog.charts(query(request, 'namespace'), sort) };
  });

  app.get('/api/v1/charts/*', async (request, reply) => {
    const path = (request.params as { '*': string })['*'];
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
