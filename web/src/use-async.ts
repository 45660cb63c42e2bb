import { useLayoutEffect, useState } from 'preact/hooks';

export type Async<T> = { state: 'loading' } | { state: 'done'; value: T } | { state: 'failed'; error: Error };

const loading = { state: 'loading' } as const;

const sameDeps = (a: unknown[], b: unknown[]): boolean => a.length === b.length && a.every((value, i) => Object.is(value, b[i]));

/**
 * Runs `load` whenever `deps` change, aborting the previous run, and tracks its outcome. An
 * outcome is only ever shown for the deps it was loaded for: in the render where deps change,
 * before the effect runs, the answer is "loading", never the previous page's data.
 */
export function useAsync<T>(load: (signal: AbortSignal) => Promise<T>, deps: unknown[]): Async<T> {
  const [result, setResult] = useState<{ deps: unknown[]; outcome: Async<T> }>({ deps, outcome: loading });
  // A layout effect starts the request right after the render, not after the next paint.
  useLayoutEffect(() => {
    const controller = new AbortController();
    setResult({ deps, outcome: loading });
    load(controller.signal).then(
      (value) => {
        if (!controller.signal.aborted) setResult({ deps, outcome: { state: 'done', value } });
      },
      (error: unknown) => {
        if (!controller.signal.aborted) setResult({ deps, outcome: { state: 'failed', error: error instanceof Error ? error : new Error(String(error)) } });
      },
    );
    return () => controller.abort();
    // The caller names what `load` depends on.
  }, deps);
  return sameDeps(result.deps, deps) ? result.outcome : loading;
}
