export { Commands, type CommandDependencies, type Actor } from './commands.js';
export { GroupCommit } from './group-commit.js';
export { handle } from './handle.js';
export { generateApiKey, generateWebhookSecrets, hashApiKey } from './secrets.js';
export { openApplication, type Application, type ApplicationOptions } from './application.js';
