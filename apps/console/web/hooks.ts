import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { refusals } from './api.js';

/** How often an open log asks for news: new executions appear within this, well inside SPEC §9's 2 s. */
export const POLL_INTERVAL_MS = 1_000;

export type Loaded<T> = { status: 'loading' } | { status: 'ready'; value: T } | { status: 'failed'; error: unknown };

/**
 * `load()` now, and (with `pollMs`) again that long after each answer while
 * the tab is visible: one request at a time, never piling up, and at once
 * when the tab becomes visible again. `reload()` asks now. A failed poll
 * keeps the last value on screen (and the error beside it).
 */
export function useLoad<T>(load: () => Promise<T>, deps: readonly unknown[], pollMs?: number): [Loaded<T>, () => void, unknown] {
  const [state, setState] = useState<Loaded<T>>({ status: 'loading' });
  const [pollError, setPollError] = useState<unknown>(null);
  const [tick, setTick] = useState(0);
  const reload = useCallback(() => setTick((n) => n + 1), []);
  const loadRef = useRef(load);
  loadRef.current = load;

  useEffect(() => {
    setState({ status: 'loading' });
  }, deps);

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const run = async () => {
      timer = undefined;
      try {
        const value = await loadRef.current();
        if (stopped) return;
        setState({ status: 'ready', value });
        setPollError(null);
      } catch (error) {
        if (stopped) return;
        refusals.notice(error);
        setState((previous) => (previous.status === 'ready' ? previous : { status: 'failed', error }));
        setPollError(error);
      }
      if (!stopped && pollMs !== undefined && !document.hidden) timer = setTimeout(run, pollMs);
    };
    const onVisible = () => {
      if (!document.hidden && timer === undefined && pollMs !== undefined) void run();
    };
    void run();
    document.addEventListener('visibilitychange', onVisible);
    return () => {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      document.removeEventListener('visibilitychange', onVisible);
    };
  }, [...deps, tick]);

  return [state, reload, pollError];
}

/** An action's state: run it, see that it is running, its result or its error. */
export function useAction<A extends unknown[], R>(action: (...args: A) => Promise<R>) {
  const [running, setRunning] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [result, setResult] = useState<R | null>(null);
  const run = async (...args: A): Promise<R | undefined> => {
    setRunning(true);
    setError(null);
    try {
      const value = await action(...args);
      setResult(value);
      return value;
    } catch (caught) {
      refusals.notice(caught);
      setError(caught);
      return undefined;
    } finally {
      setRunning(false);
    }
  };
  return { run, running, error, result, reset: () => { setError(null); setResult(null); } };
}
