import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Registry } from '../../registry/index.js';
import { OciError } from '../../errors.js';
import type { IndexFormat } from '../../registry/chart-index.js';
import type { Authorizer } from '../../auth/authorizer.js';
import { authorize, authRequest } from '../access.js';
import { sendBlobContent, sendRedirect } from '../blob-content.js';

export interface ChartRepoOptions {
  registry: Registry;
  authorizer: Authorizer;
  /** Serve JSON at index.yaml (Helm >= 3.13 reads it, and much faster on big indexes). */
  jsonAtIndexYaml: boolean;
}

function decodePath(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new OciError('BAD_REQUEST', 'malformed percent-encoding in the path');
  }
}

function acceptsGzip(request: FastifyRequest): boolean {
  return /\bgzip\b/.test(String(request.headers['accept-encoding'] ?? ''));
}

/**
 * Classic Helm repositories: `/chartrepo/<namespace>/index.yaml`, `index.json` and
 * `charts/<name>-<version>.tgz[.prov]` for the charts pushed to `oci://HOST/<namespace>/<name>`;
 * `/chartrepo/index.yaml` for charts at the top level.
 */
export async function chartRepoRoutes(app: FastifyInstance, options: ChartRepoOptions): Promise<void> {
  const { chartRepository } = options.registry;

  async function sendIndex(request: FastifyRequest, reply: FastifyReply, namespace: string, file: string): Promise<FastifyReply> {
    const format: IndexFormat = file === 'index.json' || options.jsonAtIndexYaml ? 'json' : 'yaml';
    const grant = await authorize(options.authorizer, request, [], 'basic');
    const visible = options.authorizer.enabled ? (repository: string) => grant.may(repository, 'pull') : undefined;
    const { document, hidden, shown } = await chartRepository.index(namespace, format, request.host, visible);
    // Anonymous and shown nothing of a namespace that has charts: ask for credentials.
    if (hidden > 0 && shown === 0 && grant.identity.kind === 'anonymous') {
      throw options.authorizer.challenge(authRequest(request), 'basic');
    }
    reply.headers({
      'content-type': format === 'json' ? 'application/json' : 'application/x-yaml',
      etag: document.etag,
      'cache-control': 'no-cache',
      vary: 'Accept-Encoding',
    });
    if (request.headers['if-none-match'] === document.etag) return reply.code(304).send();
    if (acceptsGzip(request)) {
      const zipped = await document.gzipped();
      return reply.header('content-encoding', 'gzip').header('content-length', zipped.length).send(zipped);
    }
    return reply.header('content-length', document.body.length).send(document.body);
  }

  app.route({
    method: ['GET', 'HEAD'],
    url: '/chartrepo/*',
    config: { access: 'delegated' },
    handler: async (request, reply) => {
      const path = decodePath((request.params as { '*': string })['*']);
      const indexMatch = /^(?:(.+)\/)?(index\.yaml|index\.json)$/.exec(path);
      if (indexMatch) return sendIndex(request, reply, indexMatch[1] ?? '', indexMatch[2] as string);
      const fileMatch = /^(?:(.+)\/)?charts\/([^/]+)$/.exec(path);
      if (!fileMatch) throw new OciError('NOT_FOUND', 'not a chart repository path');
      const grant = await authorize(options.authorizer, request, [], 'basic');
      let download;
      try {
        download = await chartRepository.download(fileMatch[1] ?? '', fileMatch[2] as string, (repository) => grant.may(repository, 'pull'));
      } catch (err) {
        // A caller who has not signed in learns only that signing in may help, never whether the file exists.
        if (options.authorizer.enabled && grant.identity.kind === 'anonymous') throw options.authorizer.challenge(authRequest(request), 'basic');
        throw err;
      }
      reply.headers({
        'content-type': download.kind === 'chart' ? 'application/gzip' : 'application/pgp-signature',
        etag: `"${download.digest}"`,
        'cache-control': 'max-age=31536000, immutable',
      });
      if (request.headers['if-none-match'] === `"${download.digest}"`) {
        if ('content' in download) await download.content.close();
        return reply.code(304).send();
      }
      if ('redirect' in download) return sendRedirect(reply, download.redirect);
      return sendBlobContent(reply.header('content-length', download.content.length), download.content);
    },
  });
}
