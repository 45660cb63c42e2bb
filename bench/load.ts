import { spawn } from 'node:child_process';

export interface LoadResult {
  requestsPerSecond: number;
  p99Ms: number;
  requests: number;
  errors: number;
}

function run(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${command} exited with ${code}: ${out.slice(-500)}`))));
  });
}

function latencyMs(value: string, unit: string): number {
  const factor: Record<string, number> = { us: 0.001, ms: 1, s: 1000 };
  return Number(value) * (factor[unit] ?? Number.NaN);
}

/** GET load from wrk with one thread (the load generator must stay cheap on two cores). */
export async function wrk(url: string, connections: number, seconds: number, headers: string[] = []): Promise<LoadResult> {
  const out = await run('wrk', ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', ...headers.flatMap((h) => ['-H', h]), url]);
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
  const p99 = /\s99%\s+([\d.]+)(us|ms|s)/.exec(out);
  const total = /(\d+) requests in/.exec(out);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  if (!rps || !p99 || !total) throw new Error(`cannot read wrk output:\n${out}`);
  const errors = Number(non2xx?.[1] ?? 0) + (socketErrors ? socketErrors.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0);
  return { requestsPerSecond: Number(rps[1]), p99Ms: latencyMs(p99[1] as string, p99[2] as string), requests: Number(total[1]), errors };
}

/** HEAD load from ab with keep-alive: wrk waits for a body that a HEAD never sends. */
export async function abHead(url: string, connections: number, requests: number, headers: string[] = []): Promise<LoadResult> {
  const out = await run('ab', ['-k', '-i', '-q', '-c', String(connections), '-n', String(requests), ...headers.flatMap((h) => ['-H', h]), url]);
  const rps = /Requests per second:\s+([\d.]+)/.exec(out);
  const p99 = /\s99%\s+(\d+)/.exec(out);
  const failed = /Failed requests:\s+(\d+)/.exec(out);
  const non2xx = /Non-2xx responses:\s+(\d+)/.exec(out);
  if (!rps || !p99) throw new Error(`cannot read ab output:\n${out}`);
  return { requestsPerSecond: Number(rps[1]), p99Ms: Number(p99[1]), requests, errors: Number(failed?.[1] ?? 0) + Number(non2xx?.[1] ?? 0) };
}

/** Big-blob throughput: `processes` curl processes, each fetching the URL `each` times over one connection. */
export async function curlDownloads(url: string, processes: number, each: number): Promise<{ seconds: number; bytes: number }> {
  const started = performance.now();
  const outputs = await Promise.all(
    Array.from({ length: processes }, () =>
      run('curl', ['-s', '-f', '-w', '%{size_download}\\n', ...Array.from({ length: each }, () => ['-o', '/dev/null', url]).flat()]),
    ),
  );
  const seconds = (performance.now() - started) / 1000;
  const bytes = outputs.flatMap((out) => out.trim().split('\n')).reduce((sum, n) => sum + Number(n), 0);
  return { seconds, bytes };
}
