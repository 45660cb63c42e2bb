import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { metadataEnv } from './backends.js';

export const chartroomBin = fileURLToPath(new URL('../../bin/chartroom.js', import.meta.url));

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `chartroom <args>` as a process without blocking this one (which may be serving it). With
 * `--data`, it opens the metadata the test's apps over that directory use.
 */
export async function runCli(args: string[], extraEnv: Record<string, string> = {}): Promise<CliResult> {
  const data = args[args.indexOf('--data') + 1];
  const env = { ...process.env, ...(args.includes('--data') && data ? metadataEnv(data) : {}), ...extraEnv };
  const child = spawn(process.execPath, [chartroomBin, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const status = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { status, stdout, stderr };
}

export interface Started {
  url: string;
  lines: string[];
  exit: Promise<number | null>;
  kill: (signal: NodeJS.Signals) => void;
}

/** Starts `chartroom` and resolves with the URL from its "listening" log line. */
export function startCli(args: string[], env: Record<string, string> = {}, readyWithinMs = 10_000): Promise<Started> {
  const child = spawn(process.execPath, [chartroomBin, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  // A test file that dies before its teardown (a failed start, an uncaught error) takes its servers with it.
  const orphaned = (): boolean => child.kill('SIGKILL');
  process.once('exit', orphaned);
  const exit = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      process.off('exit', orphaned);
      resolve(code);
    }),
  );
  const lines: string[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ready line within ${readyWithinMs / 1000} s: ${lines.join('\n')}`)), readyWithinMs);
    void exit.then((code) => reject(new Error(`exited with ${code} before ready: ${lines.join('\n')}`)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      lines.push(line);
      const match = /Chartroom listening on (http:\/\/[^\s]+)/.exec(line);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve({ url: match[1], lines, exit, kill: (signal) => child.kill(signal) });
      }
    });
    createInterface({ input: child.stderr }).on('line', (line) => lines.push(line));
  });
}
