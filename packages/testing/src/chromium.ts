import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/**
 * Debian's `chromium` (what .ci/run installs), looked up as .ci/run does: on
 * PATH, then /usr/bin. `HANDINGER_CHROMIUM` overrides. Throws (never skips)
 * when there is none: the browser tests are part of the suite.
 */
export function findChromium(): string {
  const candidates = [
    ...(process.env.HANDINGER_CHROMIUM ? [process.env.HANDINGER_CHROMIUM] : []),
    ...(process.env.PATH ?? '').split(delimiter).filter(Boolean).flatMap((dir) => [join(dir, 'chromium'), join(dir, 'chromium-browser')]),
    '/usr/bin/chromium',
    '/usr/bin/chromium-browser',
  ];
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // next
    }
  }
  throw new Error('Chromium not found (PATH, /usr/bin): install Debian\'s chromium package (apt-get install chromium), as .ci/run does');
}

/** Launch arguments: as root (CI, containers) Chromium refuses to start without `--no-sandbox`. */
export const chromiumArgs = (): string[] => (process.getuid?.() === 0 ? ['--no-sandbox'] : []);
