/**
 * The structured logger every app takes (pino's shape: an object of fields,
 * then a message). Secrets — API keys, webhook tokens, signing secrets —
 * are never passed to it.
 */
export interface Logger {
  debug(fields: object, message?: string): void;
  info(fields: object, message?: string): void;
  warn(fields: object, message?: string): void;
  error(fields: object, message?: string): void;
}

/** For tests and library use: drops everything. */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/**
 * A log line that may repeat many times a second during an outage (every
 * request refused while the disk is full): written at most once per
 * `intervalMs`, with the number of occurrences left out since the last one.
 */
export function throttledLog(intervalMs: number, now: () => number = Date.now): (write: (suppressed: number) => void) => void {
  let last = Number.NEGATIVE_INFINITY;
  let suppressed = 0;
  return (write) => {
    const at = now();
    if (at - last < intervalMs) {
      suppressed++;
      return;
    }
    last = at;
    const count = suppressed;
    suppressed = 0;
    write(count);
  };
}

/** How often an ongoing storage outage is logged (SPEC §7: once a minute rather than per request). */
export const STORAGE_OUTAGE_LOG_INTERVAL_MS = 60_000;
