/** SPEC §5: after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h — 8 attempts in all. */
export const DEFAULT_RETRY_SCHEDULE_MS: readonly number[] = [
  5_000,
  5 * 60_000,
  30 * 60_000,
  2 * 3_600_000,
  5 * 3_600_000,
  10 * 3_600_000,
  10 * 3_600_000,
];

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/**
 * Parses `HANDINGER_RETRY_SCHEDULE`, e.g. `1s,2s` (N delays: N + 1 attempts).
 * Units: ms, s, m, h. An empty string means no retries. Throws on anything else.
 */
export function parseRetrySchedule(text: string): number[] {
  if (text.trim() === '') return [];
  return text.split(',').map((part) => {
    const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)\s*$/.exec(part);
    if (!match) throw new Error(`invalid retry delay "${part.trim()}": use a number and a unit (ms, s, m, h), e.g. 5s,5m`);
    return Math.round(Number(match[1]) * UNIT_MS[match[2]!]!);
  });
}

/** SPEC §8.6: a scheduled delay may be extended by up to this share (jitter), never shortened. */
export const MAX_JITTER = 0.1;

/**
 * The delay before the next attempt: the schedule's, extended by `jitter`
 * (a random number in [0, 1) from the caller: randomness is I/O) times 10 %,
 * and, when the receiver asked with Retry-After, at least that, but never
 * beyond the longest delay of the schedule. `undefined` when the schedule
 * has no delay left.
 */
export function nextDelayMs(schedule: readonly number[], attempt: number, options: { jitter: number; retryAfterMs: number | null }): number | undefined {
  const scheduled = schedule[attempt - 1];
  if (scheduled === undefined) return undefined;
  const jittered = Math.round(scheduled * (1 + MAX_JITTER * Math.min(Math.max(options.jitter, 0), 1)));
  if (options.retryAfterMs === null) return jittered;
  return Math.max(jittered, Math.min(options.retryAfterMs, Math.max(...schedule)));
}

/** `HANDINGER_DISABLE_AFTER` by default (SPEC §8.5): five days of failures. */
export const DEFAULT_DISABLE_AFTER_MS = 5 * 86_400_000;

const DURATION_UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses a duration like `5d`, `12h`, `3s`, `250ms`; `0` alone is zero (for "off"). Throws on anything else. */
export function parseDuration(text: string): number {
  if (text.trim() === '0') return 0;
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$/.exec(text);
  if (!match) throw new Error(`invalid duration "${text.trim()}": use a number and a unit (ms, s, m, h, d), e.g. 5d, or 0`);
  return Math.round(Number(match[1]) * DURATION_UNIT_MS[match[2]!]!);
}
