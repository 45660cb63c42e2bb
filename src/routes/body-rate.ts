import type { FastifyInstance } from 'fastify';

/**
 * Cuts off request bodies that arrive slower than `minBytesPerSecond`, averaged over each window
 * of `windowSeconds`: a client trickling an endless chunked upload would otherwise hold its
 * connection, file and session forever. The socket is destroyed (no answer can be written in the
 * middle of a body); the handler sees the body end early and leaves the upload as it was.
 */
export function registerBodyRateGuard(app: FastifyInstance, minBytesPerSecond: number, windowSeconds: number): void {
  if (minBytesPerSecond <= 0) return;
  const minPerWindow = minBytesPerSecond * windowSeconds;
  app.addHook('onRequest', async (request) => {
    const req = request.raw;
    const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
    if (!hasBody || req.complete) return;
    const socket = req.socket;
    let seen = socket.bytesRead;
    const timer = setInterval(() => {
      if (req.complete || socket.destroyed) return clearInterval(timer);
      const received = socket.bytesRead - seen;
      seen = socket.bytesRead;
      if (received >= minPerWindow) return;
      clearInterval(timer);
      request.log.warn({ received, windowSeconds, minBytesPerSecond }, 'request body too slow; closing the connection');
      socket.destroy();
    }, windowSeconds * 1000).unref();
    // Listeners on the request, never on the socket: a kept-alive socket serves thousands of
    // requests, and each listener left on it would keep its request (and body) alive.
    const stop = (): void => clearInterval(timer);
    req.once('end', stop);
    req.once('close', stop);
  });
}
