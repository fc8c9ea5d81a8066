export { LIVE_TABLES, type TableSet } from './tables.js';
export { readModelDdl } from './schema.js';
export { createProjector } from './projector.js';
export { ReadModels } from './queries.js';
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
export type { ApiKeyRow } from './read-models/api-keys.js';
