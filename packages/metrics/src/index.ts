/**
 * @handinger-webhooks/metrics — SPEC §10: the Prometheus metrics (prom-client),
 * readiness, and the operator routes `/metrics`, `/readyz`, `/healthz`.
 */
export { Metrics, type GaugeSources, type MetricsOptions } from './metrics.js';
export { readinessCheck, READINESS_TIMEOUT_MS, type Readiness, type ReadinessSources } from './readiness.js';
export { createOperatorRoutes, operatorRouteLabel, METRICS_PATH, READY_PATH, HEALTH_PATH, type OperatorRoutesOptions } from './operator-routes.js';
