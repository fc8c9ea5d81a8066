import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DeliveryObserver } from '@handinger-webhooks/contracts';
import type { Application } from '@handinger-webhooks/commands';
import type { DeliveryService } from '@handinger-webhooks/delivery';
import { Metrics, createOperatorRoutes, operatorRouteLabel, readinessCheck } from '@handinger-webhooks/metrics';
import { deliveryBacklog } from '@handinger-webhooks/projections';
import type { ServiceConfig } from './config.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
/** A request's route label (SPEC §10): a template or a fixed label, never the raw path. */
export type RouteLabeler = (method: string | undefined, url: string | undefined) => string;

/** A process's metrics and operator routes (SPEC §10), wired to its application and, once started, its delivery loop. */
export interface Observability {
  /** For `DeliveryOptions.observer` (undefined when recording is off). */
  observer: DeliveryObserver | undefined;
  /** `/metrics`, `/readyz` (and `/healthz` when asked) in front of `next`; anything else goes to `next`. */
  handler(next: Handler): Handler;
  /** For `HttpServerOptions.onResponse`: counts each answered request under its route label (undefined when recording is off). */
  onResponse(label: RouteLabeler): ((req: IncomingMessage, res: ServerResponse, seconds: number) => void) | undefined;
  /** The delivery loop this process runs (readiness, in-flight gauge); `null`: it runs none. */
  setDelivery(delivery: DeliveryService | null): void;
}

/** The label of the requests a process without the API answers: its operator paths, everything else `unmatched`. */
export const operatorOnlyLabel: RouteLabeler = (_method, url) => operatorRouteLabel((url ?? '/').split('?')[0]!) ?? 'unmatched';

export function createObservability(app: Application, config: ServiceConfig, options: { health: boolean }): Observability {
  const record = config.recordMetrics;
  const metrics = new Metrics({ processMetrics: record });
  // Until a delivery loop is set, a process meant to run one is not ready.
  let delivery: { running(): boolean } | null = config.delivery ? { running: () => false } : null;
  let inFlight = (): number => 0;
  const readiness = readinessCheck({ ping: () => app.database.ping(), get delivery() { return delivery; } });
  metrics.setSources({
    inFlight: () => inFlight(),
    backlog: () => deliveryBacklog(app.database.sql),
    webhookHealth: () => app.readModels.webhookHealth(),
    ready: async () => (await readiness()).ready,
  });
  const routes = createOperatorRoutes({ metrics, token: config.metricsToken, health: options.health, readiness });
  return {
    observer: record ? metrics.delivery : undefined,
    handler: (next) => (req, res) => {
      if (!routes(req, res)) next(req, res);
    },
    onResponse: (label) => (record ? (req, res, seconds) => metrics.observeHttp(req.method, label(req.method, req.url), res.statusCode, seconds) : undefined),
    setDelivery(service) {
      delivery = service;
      inFlight = service === null ? () => 0 : () => service.inFlight();
    },
  };
}
