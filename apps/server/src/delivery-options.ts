import type { DeliveryObserver, Logger } from '@handinger-webhooks/contracts';
import type { DeliveryOptions } from '@handinger-webhooks/delivery';
import type { ServiceConfig } from './config.js';

/** The delivery app's options from the service configuration (shared by `serve` and `deliver`). */
export function deliveryOptions(config: ServiceConfig, version: string, logger: Logger, observer?: DeliveryObserver): DeliveryOptions {
  return {
    version,
    allowPrivateNetwork: config.allowPrivateNetwork,
    retryScheduleMs: config.retryScheduleMs,
    disableAfterMs: config.disableAfterMs,
    timeoutMs: config.deliveryTimeoutMs,
    globalConcurrency: config.deliveryConcurrency,
    perOriginConcurrency: config.deliveryOriginConcurrency,
    logger,
    ...(observer ? { observer } : {}),
  };
}
