import { close, fstat, fsync, open, read, unlink, type Stats } from 'node:fs';

// The few file calls on the push and pull paths, through fs's callback API: its promise API
// (FileHandle, fs/promises' rm) costs several times more CPU per call, which shows at hundreds
// of pushes a second.

function promised<T>(call: (done: (err: NodeJS.ErrnoException | null, value: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => call((err, value) => (err ? reject(err) : resolve(value))));
}

export function openFd(path: string, flags: string): Promise<number> {
  return promised((done) => open(path, flags, done));
}

export function closeFd(fd: number): Promise<void> {
  return promised<void>((done) => close(fd, (err) => done(err, undefined)));
}

export function statFd(fd: number): Promise<Stats> {
  return promised((done) => fstat(fd, done));
}

export function readAt(fd: number, into: Buffer, length: number, position: number): Promise<number> {
  return promised((done) => read(fd, into, 0, length, position, done));
}

/** Removes a file; one that is not there is fine. */
export function unlinkIfPresent(path: string): Promise<void> {
  return promised<void>((done) => unlink(path, (err) => done(err?.code === 'ENOENT' ? null : err, undefined)));
}

/** fsyncs a file or a directory (its entries). */
export async function syncPath(path: string): Promise<void> {
  const fd = await openFd(path, 'r');
  try {
    await promised<void>((done) => fsync(fd, (err) => done(err, undefined)));
  } finally {
    await closeFd(fd);
  }
}
