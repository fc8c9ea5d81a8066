import { openApplication } from '@handinger-webhooks/commands';
import { startDelivery } from '@handinger-webhooks/delivery';
import type { ServiceConfig } from '../config.js';
import { deliveryOptions } from '../delivery-options.js';
import { createHttpServer, type HttpServer } from '../http-server.js';
import { createLogger } from '../logger.js';
import { createObservability, operatorOnlyLabel } from '../observability.js';
import { sendNotFound } from '../not-found.js';
import { onShutdownSignal } from '../signals.js';
import { runsBackgroundCheckpoints } from '../storage-facts.js';
import { VERSION } from '../version.js';

/** How long scrapes in flight get on shutdown. */
const METRICS_GRACE_MS = 2_000;

/**
 * `handinger-webhooks deliver`: the delivery worker alone, beside a server
 * (or another worker) on the same database; with `--metrics-port`, it
 * serves `/metrics`, `/healthz` and `/readyz` there (SPEC §10).
 */
export async function deliver(config: ServiceConfig): Promise<void> {
  const logger = createLogger(config.logLevel, 'delivery');
  const app = await openApplication({ db: config.db, secretKey: config.secretKey, backgroundCheckpoints: true });
  const observability = createObservability(app, config, { health: true });
  let operator: HttpServer | null = null;
  let url: string | undefined;
  let port: number | undefined;
  if (config.metricsPort !== null) {
    const onResponse = observability.onResponse(operatorOnlyLabel);
    operator = createHttpServer(observability.handler(sendNotFound), logger, onResponse ? { onResponse } : {});
    try {
      const address = await operator.listen(config.host, config.metricsPort);
      port = address.port;
      url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
    } catch (error) {
      await app.close();
      throw error;
    }
  }
  const delivery = startDelivery(app, deliveryOptions(config, VERSION, logger, observability.observer));
  observability.setDelivery(delivery);
  logger.info(
    {
      db: app.database.location,
      secretKeySource: app.secretKeySource,
      allowPrivateNetwork: config.allowPrivateNetwork,
      backgroundCheckpoints: runsBackgroundCheckpoints(app.database),
      version: VERSION,
      ...(url ? { url, port } : {}),
    },
    'delivering',
  );
  onShutdownSignal(async (signal) => {
    logger.info({ signal }, 'shutting down: no new attempts, recording in-flight ones');
    await delivery.stop(); // /readyz answers 503 meanwhile
    await operator?.close(METRICS_GRACE_MS);
    await app.close();
    logger.info({}, 'stopped');
  });
}
