import type { FastifyInstance } from 'fastify';

/**
 * `/charts/<repository>`: the chart's page, where `helm search hub` links. Until the web UI
 * serves it, it redirects to the chart's JSON (`/api/v1/charts/<repository>`), which checks access.
 */
export async function chartPageRoutes(app: FastifyInstance): Promise<void> {
  app.get('/charts/*', { config: { access: 'public' } }, async (request, reply) => {
    const repository = (request.params as { '*': string })['*'];
    return reply.redirect(`/api/v1/charts/${repository.split('/').map(encodeURIComponent).join('/')}`, 302);
  });
}
