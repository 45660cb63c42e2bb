import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';

/** One access-log line per request, written when it completes (Fastify's default writes two). */
export class AccessLog extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    const line = {
      method: request.method,
      url: request.url,
      status: reply.statusCode,
      ms: Math.round(reply.elapsedTime * 10) / 10,
    };
    if (error) reply.log.warn({ ...line, err: error }, 'request ended with an error');
    else reply.log.info(line, 'request');
  }
}
