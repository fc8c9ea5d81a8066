/**
 * A clock's time as ISO 8601 text (`Date#toISOString`), formatted once per
 * millisecond: formatting costs about a microsecond on a small machine, and
 * a busy write path asks for the time several times per command, many
 * commands per millisecond.
 */
export function isoClock(clock: () => Date): () => string {
  let lastMs = Number.NaN;
  let lastText = '';
  return () => {
    const ms = clock().getTime();
    if (ms !== lastMs) {
      lastMs = ms;
      lastText = new Date(ms).toISOString();
    }
    return lastText;
  };
}
