export { Commands, type CommandDependencies, type Actor, type AttemptOutcomeRecord, type RecordedAttempt, type RecordingOptions, type RecoveryRequest, type RecoveryView } from './commands.js';
export { handle, decideAndAppend } from './handle.js';
export { generateApiKey, generatePortalCredential, generateWebhookSecrets, hashApiKey, isPortalCredential } from './secrets.js';
export { openApplication, type Application, type ApplicationOptions } from './application.js';
export { openStorage, isPostgresUrl } from './open-storage.js';
export { exportLog, importLog, ImportError, type ImportOptions, type LogLine } from './log-file.js';
export { executionDetail } from './execution-detail.js';
export { PortalSessionCommands, type CreatedPortalSession } from './portal-sessions.js';
