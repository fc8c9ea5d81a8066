export { createTempDir } from './temp-dir.js';
export { startServerProcess, runCli, CLI_PATH, type ServerProcess, type CliResult } from './server-process.js';
