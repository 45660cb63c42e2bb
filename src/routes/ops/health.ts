import type { FastifyInstance } from 'fastify';
import type { Metadata } from '../../db/metadata.js';
import type { BlobStore } from '../../storage/blob-store.js';

/**
 * `/healthz`: the process answers. `/readyz`: it can do its work: the database answers and the
 * data directory takes a new file; 503 with the failing check otherwise (no paths, no stack).
 */
export async function healthRoutes(app: FastifyInstance, options: { metadata: Metadata; blobs: BlobStore }): Promise<void> {
  const open = { config: { access: 'public' } } as const;
  app.get('/healthz', open, async () => ({ status: 'ok' }));
  app.get('/readyz', open, async (request, reply) => {
    const checks = { database: options.metadata.ping(), dataDir: options.blobs.checkWritable() };
    const results = Object.fromEntries(
      await Promise.all(
        Object.entries(checks).map(async ([name, check]) => {
          try {
            await check;
            return [name, 'ok'];
          } catch (err) {
            request.log.warn({ err, check: name }, 'readiness check failed');
            return [name, 'failing'];
          }
        }),
      ),
    ) as Record<keyof typeof checks, string>;
    const ready = Object.values(results).every((result) => result === 'ok');
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks: results });
  });
}
