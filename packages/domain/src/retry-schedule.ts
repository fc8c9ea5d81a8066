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
