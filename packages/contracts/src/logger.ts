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
