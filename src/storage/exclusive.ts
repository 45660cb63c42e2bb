import { UploadBusyError } from './blob-store.js';

/**
 * One writer per upload within a process: a second request while one is writing is refused
 * (UploadBusyError), not queued. Writers in other processes are kept apart by the upload
 * session's offset, which only one of them can advance.
 */
export function oneWriterPerUpload(): <T>(id: string, work: () => Promise<T>) => Promise<T> {
  const busy = new Set<string>();
  return async (id, work) => {
    if (busy.has(id)) throw new UploadBusyError();
    busy.add(id);
    try {
      return await work();
    } finally {
      busy.delete(id);
    }
  };
}
