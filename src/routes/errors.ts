import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
import { OciError } from '../errors.js';
import { BlobStoreUnavailableError } from '../storage/blob-store.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** ChartMuseum's API answers errors as `{"error": "…"}`; everything else in the OCI shape. */
    errorFormat?: 'oci' | 'chartmuseum';
  }
}

/** The one place that writes error bodies: registry errors as they are, framework errors as 4xx, the rest as a logged 500. */
export function registerErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | OciError | Error, request, reply) => {
    const error = toOciError(err, request);
    if (error.status >= 500) request.log.error({ err }, 'request failed');
    const body = request.routeOptions.config.errorFormat === 'chartmuseum' ? { error: error.message } : error.toBody();
    void reply.code(error.status).headers(headersFor(error, request)).type('application/json').send(body);
  });
}

/**
 * A browser answers a Basic challenge with its own password dialog, even to a script's fetch.
 * A script that says so (`X-Requested-With: XMLHttpRequest`, as the web UI does) signs in its
 * own way, so it gets the 401 without the challenge.
 */
function headersFor(error: OciError, request: FastifyRequest): Record<string, string> {
  const challenge = error.headers['www-authenticate'];
  if (error.status !== 401 || !challenge?.startsWith('Basic') || request.headers['x-requested-with'] !== 'XMLHttpRequest') return error.headers;
  const { 'www-authenticate': _dropped, ...rest } = error.headers;
  return rest;
}

function toOciError(err: FastifyError | OciError | Error, request: FastifyRequest): OciError {
  if (err instanceof OciError) return err;
  if ('statusCode' in err && typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
    return new OciError(err.statusCode === 413 ? 'SIZE_INVALID' : 'BAD_REQUEST', err.message, { status: err.statusCode });
  }
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE' || err.message === 'aborted') {
    request.log.info({ code }, 'client went away mid-request');
    return new OciError('BAD_REQUEST', 'request body ended early');
  }
  // A full disk is the server's condition, not the client's mistake: 507 Insufficient Storage
  // (RFC 4918), whether the blob store or SQLite (SQLITE_FULL) met it.
  if (code === 'ENOSPC' || code === 'EDQUOT' || code === 'SQLITE_FULL') {
    return new OciError('UNAVAILABLE', 'the registry is out of storage space', { status: 507 });
  }
  // Object storage that cannot be reached is an outage, not a bug: 503, so clients retry. The
  // message (operation and S3's error code) goes to the log only.
  if (err instanceof BlobStoreUnavailableError) return new OciError('UNAVAILABLE', 'blob storage is unavailable; try again later', { status: 503 });
  // Never the message: it may hold a path or a stack.
  return new OciError('UNKNOWN', 'internal server error');
}
