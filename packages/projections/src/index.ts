export { LIVE_TABLES, type TableSet } from './tables.js';
export { READ_MODELS_VERSION, readModelDdl } from './schema.js';
export { createProjector } from './projector.js';
export { ReadModels, toExecution, type FailedRange } from './queries.js';
export { deliveryBacklog, type DeliveryBacklog, type WebhookHealth } from './health.js';
export { DeliveryClaims, type Claim, type ClaimRequest, type ClaimedAttempt, type OrphanedDelivery, type SendLimits } from './delivery-claims.js';
export { DELIVERY_WORK_SIGNAL, CLAIM_METADATA } from './read-models/delivery-queue.js';
export {
  rebuildReadModels,
  ensureReadModels,
  RebuildInProgressError,
  type RebuildOptions,
  type RebuildProgress,
  type RebuildResult,
} from './rebuild.js';
export { originOf, type WebhookRow } from './read-models/webhooks.js';
export type { WorkerRow } from './read-models/workers.js';
export type { ApiKeyRow } from './read-models/api-keys.js';
export type { ExecutionRow } from './read-models/executions.js';
export { RECOVERY_SIGNAL, type FailedDeliveryRow, type RecoveryRow } from './read-models/recoveries.js';
export type { PortalSessionRow } from './read-models/portal-sessions.js';
