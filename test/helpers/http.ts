// Plain HTTP requests to a test server from e2e tests, beside the stock clients.

import { request as httpRequestRaw, type IncomingHttpHeaders } from 'node:http';
import { mediaTypes } from './oci.js';
import type { TestServer } from './server.js';

export interface HttpReply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/**
 * One request on its own connection with `Connection: close`. Not the global fetch: its kept-alive
 * sockets can outlive app.close() (a blob GET's response may finish on the server only after the
 * client holds every byte, and a socket busy at close is never reaped), stalling teardown for
 * the server's keepAliveTimeout (72 s).
 */
export function httpRequest(url: string, method: string, headers: Record<string, string> = {}, body?: Buffer | string): Promise<HttpReply> {
  return new Promise<HttpReply>((resolve, reject) => {
    const req = httpRequestRaw(url, { method, agent: false, headers: { connection: 'close', ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

export function httpGet(url: string, headers: Record<string, string> = {}): Promise<HttpReply> {
  return httpRequest(url, 'GET', headers);
}

/** A response header's (first) value. */
export function headerOf(reply: HttpReply, name: string): string | undefined {
  const value = reply.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/** GET /v2/<repo>/manifests/<reference>, accepting an OCI image manifest or index. */
export function getManifest(server: TestServer, repo: string, reference: string): Promise<HttpReply> {
  return httpGet(`${server.url}/v2/${repo}/manifests/${reference}`, { accept: `${mediaTypes.ociManifest}, ${mediaTypes.ociIndex}` });
}
