import type { FastifyError, FastifyInstance } from 'fastify';
import { OciError } from '../errors.js';

/** The one place that writes error bodies: registry errors as they are, framework errors as 4xx, the rest as a logged 500. */
export function registerErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | OciError | Error, request, reply) => {
    let error: OciError;
    if (err instanceof OciError) {
      error = err;
    } else if ('statusCode' in err && typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
      error = new OciError(err.statusCode === 413 ? 'SIZE_INVALID' : 'BAD_REQUEST', err.message, { status: err.statusCode });
    } else if (isClientAbort(err)) {
      request.log.info({ err: { message: err.message, code: (err as NodeJS.ErrnoException).code } }, 'client went away');
      error = new OciError('BAD_REQUEST', 'request body ended early', { status: 400 });
    } else {
      request.log.error({ err }, 'request failed');
      error = new OciError('UNKNOWN', 'internal server error');
    }
    if (error.status >= 500 && err instanceof OciError) request.log.error({ err }, 'request failed');
    void reply.code(error.status).headers(error.headers).type('application/json').send(error.toBody());
  });
}

function isClientAbort(err: Error): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE' || err.message === 'aborted';
}
