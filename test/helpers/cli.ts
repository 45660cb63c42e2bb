import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const chartroomBin = fileURLToPath(new URL('../../bin/chartroom.js', import.meta.url));

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `chartroom <args>` as a process without blocking this one (which may be serving it). */
export async function runCli(args: string[]): Promise<CliResult> {
  const child = spawn(process.execPath, [chartroomBin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const status = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { status, stdout, stderr };
}
