import { pino } from 'pino';
import type { Logger } from '@handinger-webhooks/contracts';
import type { LogLevel } from './config.js';

/**
 * Structured JSON logs on stdout (one object per line). Secrets are never
 * passed to the logger; the redaction list is a second line of defence for
 * fields that could carry one by mistake.
 */
export function createLogger(level: LogLevel, component: string): Logger & { flush(): void } {
  return pino({
    level,
    base: { service: 'handinger-webhooks', component, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: ['authorization', 'headers.authorization', '*.authorization', 'token', '*.token', 'signingSecret', '*.signingSecret', 'key', '*.key'],
      censor: '[redacted]',
    },
  });
}
