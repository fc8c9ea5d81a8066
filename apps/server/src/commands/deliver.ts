import { openApplication } from '@handinger-webhooks/commands';
import { startDelivery } from '@handinger-webhooks/delivery';
import type { ServiceConfig } from '../config.js';
import { deliveryOptions } from '../delivery-options.js';
import { createLogger } from '../logger.js';
import { onShutdownSignal } from '../signals.js';
import { VERSION } from '../version.js';

/** `handinger-webhooks deliver`: the delivery worker alone, beside a server (or another worker) on the same database. */
export async function deliver(config: ServiceConfig): Promise<void> {
  const logger = createLogger(config.logLevel, 'delivery');
  const app = await openApplication({ db: config.db, secretKey: config.secretKey });
  const delivery = startDelivery(app, deliveryOptions(config, VERSION, logger));
  logger.info({ db: app.database.location, secretKeySource: app.secretKeySource, allowPrivateNetwork: config.allowPrivateNetwork, version: VERSION }, 'delivering');
  onShutdownSignal(async (signal) => {
    logger.info({ signal }, 'shutting down: no new attempts, recording in-flight ones');
    await delivery.stop();
    await app.close();
    logger.info({}, 'stopped');
  });
}
