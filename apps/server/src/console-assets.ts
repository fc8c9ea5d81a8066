import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { parseConsoleAssets, type ConsoleAssets } from '@handinger-webhooks/api';
import type { Logger } from '@handinger-webhooks/contracts';

/** The single executable hands its embedded copy here (sea/main.ts); otherwise the build's file is read. */
let embedded: string | undefined;
export function setEmbeddedConsoleAssets(json: string): void {
  embedded = json;
}

/**
 * The web console's files (SPEC §9): the document `apps/console` builds, or
 * the copy inside the single executable. Without it (the console was not
 * built) the server runs and says so; `/console/` is then a 404.
 */
export function loadConsoleAssets(logger: Logger): ConsoleAssets | undefined {
  try {
    const json = embedded ?? readFileSync(createRequire(import.meta.url).resolve('@handinger-webhooks/console/assets.json'), 'utf8');
    return parseConsoleAssets(json);
  } catch (error) {
    logger.warn({ error: (error as Error).message }, 'web console not available (run npm run build)');
    return undefined;
  }
}
