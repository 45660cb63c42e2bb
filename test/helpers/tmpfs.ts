import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Test } from 'tap';

/**
 * A fresh tmpfs of `mib` MiB (a disk that fills up), unmounted when `t` ends after `beforeUnmount`;
 * a string saying why when this machine cannot mount one (not root, no CAP_SYS_ADMIN, a container).
 */
export function mountTmpfs(t: Test, mib: number, beforeUnmount: () => Promise<void>): { dir: string } | { reason: string } {
  const dir = mkdtempSync(join(tmpdir(), 'chartroom-e2e-tmpfs-'));
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${mib}m`, 'tmpfs', dir], { encoding: 'utf8' });
  if (mounted.error || mounted.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    return { reason: unavailable(mounted) };
  }
  t.teardown(async () => {
    await beforeUnmount();
    spawnSync('umount', ['-l', dir]);
    rmSync(dir, { recursive: true, force: true });
  });
  return { dir };
}

/** Why no tmpfs can be mounted here, or undefined when one can (mounts and unmounts a tiny one). */
export function tmpfsUnavailable(): string | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'chartroom-e2e-tmpfs-probe-'));
  try {
    const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir], { encoding: 'utf8' });
    if (mounted.error || mounted.status !== 0) return unavailable(mounted);
    spawnSync('umount', [dir]);
    return undefined;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function unavailable(result: SpawnSyncReturns<string>): string {
  return `cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN): ${(result.stderr || String(result.error)).trim()}`;
}
