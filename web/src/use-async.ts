import { useEffect, useState } from 'preact/hooks';

export type Async<T> = { state: 'loading' } | { state: 'done'; value: T } | { state: 'failed'; error: Error };

/** Runs `load` whenever `deps` change, aborting the previous run, and tracks its outcome. */
export function useAsync<T>(load: (signal: AbortSignal) => Promise<T>, deps: unknown[]): Async<T> {
  const [result, setResult] = useState<Async<T>>({ state: 'loading' });
  useEffect(() => {
    const controller = new AbortController();
    setResult({ state: 'loading' });
    load(controller.signal).then(
      (value) => {
        if (!controller.signal.aborted) setResult({ state: 'done', value });
      },
      (error: unknown) => {
        if (!controller.signal.aborted) setResult({ state: 'failed', error: error instanceof Error ? error : new Error(String(error)) });
      },
    );
    return () => controller.abort();
    // The caller names what `load` depends on.
  }, deps);
  return result;
}
