export { LIVE_TABLES, ASIDE_TABLES, type TableSet } from './tables.js';
export { READ_MODELS_VERSION, readModelDdl } from './schema.js';
export { createProjector } from './projector.js';
export { ReadModels, pageRange } from './queries.js';
export {
  rebuildReadModels,
  ensureReadModels,
  RebuildInProgressError,
  type RebuildOptions,
  type RebuildProgress,
  type RebuildResult,
} from './rebuild.js';
export type { WorkerRow } from './read-models/workers.js';
export type { WebhookRow } from './read-models/webhooks.js';
export { originOf } from './read-models/webhooks.js';
export type { ApiKeyRow } from './read-models/api-keys.js';
export type { ExecutionRow } from './read-models/executions.js';
export type { DeliveryQueueRow } from './read-models/delivery-queue.js';
