import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { OciError } from '../../errors.js';
import type { WebAsset, WebAssets } from './web-assets.js';

/**
 * The page's rules for the browser. Scripts come only from this server's own files, so HTML
 * that a chart's README smuggles past the sanitizer still cannot run a script; images may come
 * from anywhere (chart icons and README badges live on other hosts).
 */
export const contentSecurityPolicy = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  'img-src * data:',
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const pageHeaders = {
  'content-security-policy': contentSecurityPolicy,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
};

/** What `/` says when `npm run build` never built the UI: the registry and its APIs work regardless. */
export const notBuiltPage = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Chartroom</title></head>
<body>
<h1>Chartroom</h1>
<p>The registry is running, but its web UI has not been built, so there is nothing to show here.</p>
<p>Build it with <code>npm run build</code> (<code>npm ci</code> does it too) and restart the server.
The OCI API (<code>/v2/</code>), the classic repositories (<code>/chartrepo/</code>) and the JSON API
(<code>/api/v1/</code>) work without it.</p>
</body>
</html>
`;

/** Paths the UI draws in the browser; each answers with the same `index.html`. */
const pagePaths = ['/', '/search', '/namespaces/*', '/charts/*'];

function send(request: FastifyRequest, reply: FastifyReply, file: WebAsset): FastifyReply {
  void reply.header('etag', file.etag).header('vary', 'accept-encoding');
  void reply.header('cache-control', file.immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
  if (request.headers['if-none-match'] === file.etag) return reply.code(304).send();
  void reply.type(file.type);
  if (file.gzip && /\bgzip\b/.test(request.headers['accept-encoding'] ?? '')) {
    return reply.header('content-encoding', 'gzip').send(file.gzip);
  }
  return reply.send(file.body);
}

/**
 * The web UI: its pages (`/`, `/search`, `/namespaces/<ns>`, `/charts/<repository>`, the last
 * one where `helm search hub` links) and its built files under `/ui/`. It reads everything
 * through the JSON API, which checks access, so the pages themselves are public.
 */
export async function uiRoutes(app: FastifyInstance, options: { assets: WebAssets | undefined }): Promise<void> {
  const { assets } = options;
  const config = { access: 'public' } as const;

  for (const path of pagePaths) {
    app.get(path, { config }, async (request, reply) => {
      void reply.headers(pageHeaders);
      if (!assets) return reply.code(503).header('cache-control', 'no-store').type('text/html; charset=utf-8').send(notBuiltPage);
      return send(request, reply, assets.index);
    });
  }

  app.get('/ui/*', { config }, async (request, reply) => {
    const file = assets?.files.get((request.params as { '*': string })['*']);
    if (!file) throw new OciError('NOT_FOUND', 'no such file in the web UI');
    if (file === assets?.index) void reply.headers(pageHeaders);
    return send(request, reply, file);
  });
}
