import { closeSync, fsync, openSync } from 'node:fs';

/**
 * Group commit for a WAL-mode connection that does not fsync on COMMIT: `sync()` resolves once
 * everything committed before the call is on disk. One fsync of the WAL file, run on libuv's
 * thread pool, covers every commit made before it started, so concurrent writers share it and
 * the event loop never waits on the disk.
 */
export function createWalSync(walFile: string, onSync: () => void = () => {}) {
  let fd: number | undefined;
  let running: Promise<void> | undefined;
  // The sync after the running one: it covers commits made while the running one was under way.
  let queued: Promise<void> | undefined;

  function start(): Promise<void> {
    const sync = new Promise<void>((resolve, reject) => {
      fd ??= openSync(walFile, 'r');
      fsync(fd, (err) => {
        if (err) return reject(err);
        onSync();
        resolve();
      });
    }).finally(() => {
      if (running === sync) running = undefined;
    });
    running = sync;
    return sync;
  }

  return {
    sync(): Promise<void> {
      if (queued) return queued;
      if (!running) return start();
      queued = running
        .catch(() => undefined)
        .then(() => {
          queued = undefined;
          return start();
        });
      return queued;
    },
    close(): void {
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
    },
  };
}

export type WalSync = ReturnType<typeof createWalSync>;
