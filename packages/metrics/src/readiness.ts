/** How long the database gets to answer a readiness check before the process is called not ready. */
export const READINESS_TIMEOUT_MS = 2_000;

export interface ReadinessSources {
  /** Whether the database answers (`Database.ping`). */
  ping: () => Promise<boolean>;
  /** This process's delivery loop, when it runs one. */
  delivery?: { running(): boolean } | null;
  timeoutMs?: number;
}

export interface Readiness {
  ready: boolean;
  database: 'ok' | 'unreachable';
  delivery: 'running' | 'stopped' | 'none';
}

/** SPEC §10's readiness: the database answers (within a bound) and the delivery loop, if any, runs. */
export function readinessCheck(sources: ReadinessSources): () => Promise<Readiness> {
  const timeoutMs = sources.timeoutMs ?? READINESS_TIMEOUT_MS;
  return async () => {
    let timer: NodeJS.Timeout | undefined;
    const answered = await Promise.race([
      sources.ping().catch(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
    ]);
    clearTimeout(timer);
    const delivery = sources.delivery == null ? 'none' : sources.delivery.running() ? 'running' : 'stopped';
    return { ready: answered && delivery !== 'stopped', database: answered ? 'ok' : 'unreachable', delivery };
  };
}
