import type { Logger, UrlPolicy } from '@handinger-webhooks/contracts';
import { STORAGE_OUTAGE_LOG_INTERVAL_MS, silentLogger, throttledLog } from '@handinger-webhooks/contracts';
import type { Application } from '@handinger-webhooks/commands';
import type { SignatureVerification, WebhookExecution } from '@handinger-webhooks/contracts';

/**
 * Sends a test notification at once (SPEC §8.2), from the process serving
 * the API: the delivery app provides it (the API itself sends nothing).
 */
export interface WebhookTester {
  test(workerId: string, options: { checkSignatureVerification: boolean }): Promise<{ execution: WebhookExecution; signatureVerification: SignatureVerification }>;
}
import type { ConsoleAssets } from './http/console.js';

/** Everything the API needs from the process that serves it. */
export interface ApiOptions {
  app: Application;
  /** `--allow-private-network`: webhook URLs may use http and target private/loopback hosts. */
  allowPrivateNetwork: boolean;
  /** The service version, shown in the OpenAPI document. */
  version: string;
  /** Base of `WorkerTemplate.url` (`${dashboardUrl}/workers/${id}`); default `https://handinger.com`. */
  dashboardUrl?: string;
  /** Where unexpected (500) errors are reported; default: dropped. */
  logger?: Logger;
  /** Test sends (SPEC §8.2); without it `sendTest` answers 503. */
  webhookTester?: WebhookTester;
  /** `HANDINGER_PUBLIC_URL`: the base of the links the API hands out (portal links); default: `http://<Host header>`. */
  publicUrl?: string | undefined;
  /** The web console's files (SPEC §9), served under `/console/`; without them `/console/` is a 404. */
  console?: ConsoleAssets | undefined;
  /** `HANDINGER_PORTAL_FRAME_ANCESTORS`: the origins allowed to frame portal views (SPEC §9.1); default none. */
  portalFrameAncestors?: readonly string[] | undefined;
}

export const DEFAULT_DASHBOARD_URL = 'https://handinger.com';

/** The options with their defaults applied, as the routers and handlers use them. */
export interface ApiServices {
  app: Application;
  urlPolicy: UrlPolicy;
  dashboardUrl: string;
  version: string;
  logger: Logger;
  publicUrl: string | undefined;
  /** One throttle per API for "storage unavailable" log lines (both surfaces share it). */
  storageOutage: (write: (suppressed: number) => void) => void;
  webhookTester: WebhookTester | null;
}

/** Applies the defaults once, so no router repeats them. */
export function resolveServices(options: ApiOptions): ApiServices {
  return {
    app: options.app,
    urlPolicy: { allowPrivateNetwork: options.allowPrivateNetwork },
    dashboardUrl: (options.dashboardUrl ?? DEFAULT_DASHBOARD_URL).replace(/\/+$/, ''),
    version: options.version,
    logger: options.logger ?? silentLogger,
    storageOutage: throttledLog(STORAGE_OUTAGE_LOG_INTERVAL_MS),
    webhookTester: options.webhookTester ?? null,
    publicUrl: options.publicUrl?.replace(/\/+$/, '') || undefined,
  };
}
