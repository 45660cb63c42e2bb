// A timed keep-alive HTTP client and latency statistics, shared by the benchmark scripts.
import { Agent, request, type IncomingHttpHeaders } from 'node:http';

export interface Timed {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** Request sent → response headers (the server has the whole body ready by then). */
  ttfbMs: number;
  /** Request sent → last byte. */
  totalMs: number;
  /** Body bytes received (the body itself is empty when not kept). */
  bytes: number;
}

/** One keep-alive connection per server, so a timed request never pays for a handshake (but the first). */
export function httpClient(baseUrl: string) {
  const base = new URL(baseUrl);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  return {
    /** `keep: false` counts the body's bytes and drops them: no copy, no garbage for the timed loop. */
    get(path: string, headers: Record<string, string> = {}, keep = true): Promise<Timed> {
      return new Promise((resolve, reject) => {
        const start = performance.now();
        const req = request({ agent, host: base.hostname, port: base.port, path, method: 'GET', headers }, (res) => {
          const ttfbMs = performance.now() - start;
          const chunks: Buffer[] = [];
          let bytes = 0;
          res.on('data', (chunk: Buffer) => {
            bytes += chunk.length;
            if (keep) chunks.push(chunk);
          });
          res.on('end', () => {
            const totalMs = performance.now() - start;
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), ttfbMs, totalMs, bytes });
          });
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end();
      });
    },
    close(): void {
      agent.destroy();
    },
  };
}

export type HttpClient = ReturnType<typeof httpClient>;

export interface Stats {
  n: number;
  medianMs: number;
  p99Ms: number;
  minMs: number;
  maxMs: number;
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? Number.NaN;
}

export function stats(values: number[]): Stats {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    n: sorted.length,
    medianMs: quantile(sorted, 0.5),
    p99Ms: quantile(sorted, 0.99),
    minMs: sorted[0] ?? Number.NaN,
    maxMs: sorted[sorted.length - 1] ?? Number.NaN,
  };
}
