import { spawn } from 'node:child_process';
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
export async function runCli(args: string[]): Promise<CliResult> {
  const data = args[args.indexOf('--data') + 1];
  const env = { ...process.env, ...(args.includes('--data') && data ? metadataEnv(data) : {}) };
  const child = spawn(process.execPath, [chartroomBin, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const status = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { status, stdout, stderr };
}
