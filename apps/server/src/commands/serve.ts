import { createApiHandler, createRouteLabeler } from '@handinger-webhooks/api';
import { openApplication } from '@handinger-webhooks/commands';
import { WebhookTester, startDelivery } from '@handinger-webhooks/delivery';
import { bootstrapFirstKey } from '../bootstrap.js';
import type { ServiceConfig } from '../config.js';
import { loadConsoleAssets } from '../console-assets.js';
import { deliveryOptions } from '../delivery-options.js';
import { createHttpServer } from '../http-server.js';
import { createLogger } from '../logger.js';
import { createObservability } from '../observability.js';
import { onShutdownSignal } from '../signals.js';
import { runsBackgroundCheckpoints } from '../storage-facts.js';
import { VERSION } from '../version.js';

/** How long in-flight HTTP requests get to finish on shutdown before their connections are cut. */
const HTTP_GRACE_MS = 10_000;

/** `handinger-webhooks serve`: the API, and (unless `--no-delivery`) a delivery loop, in one process. */
export async function serve(config: ServiceConfig): Promise<void> {
  const logger = createLogger(config.logLevel, 'server');
  const app = await openApplication({ db: config.db, secretKey: config.secretKey, backgroundCheckpoints: true });
  const observability = createObservability(app, config, { health: false });
  // Test sends (SPEC §8.2) go out from the API node itself, through the same stages and caps as deliveries.
  const webhookTester = new WebhookTester(app, deliveryOptions(config, VERSION, logger, observability.observer));
  const apiOptions = {
    app,
    allowPrivateNetwork: config.allowPrivateNetwork,
    version: VERSION,
    dashboardUrl: config.dashboardUrl,
    logger,
    webhookTester,
    publicUrl: config.publicUrl,
    console: loadConsoleAssets(logger),
    portalFrameAncestors: config.portalFrameAncestors,
  };
  const handler = observability.handler(createApiHandler(apiOptions));
  const onResponse = observability.onResponse(createRouteLabeler(apiOptions));
  const http = createHttpServer(handler, logger, onResponse ? { onResponse } : {});
  const address = await http.listen(config.host, config.port);
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const baseUrl = `http://${host}:${address.port}`;

  await bootstrapFirstKey(app, { bootstrapKey: config.bootstrapKey, baseUrl, stderr: process.stderr });
  const delivery = config.delivery ? startDelivery(app, deliveryOptions(config, VERSION, logger, observability.observer)) : null;
  observability.setDelivery(delivery);
  logger.info(
    {
      url: baseUrl,
      port: address.port,
      db: app.database.location,
      secretKeySource: app.secretKeySource,
      allowPrivateNetwork: config.allowPrivateNetwork,
      delivery: config.delivery,
      backgroundCheckpoints: runsBackgroundCheckpoints(app.database),
      version: VERSION,
    },
    'listening',
  );

  onShutdownSignal(async (signal) => {
    logger.info({ signal }, 'shutting down: no new requests, finishing in-flight work');
    await http.close(HTTP_GRACE_MS);
    await delivery?.stop();
    await webhookTester.close();
    await app.close();
    logger.info({}, 'stopped');
  });
}
