export { createTempDir } from './temp-dir.js';
export { startServerProcess, runCli, CLI_PATH, type ServerProcess, type CliResult } from './server-process.js';
export { startReceiver, type Receiver, type ReceiverOptions, type ReceivedRequest, type Reply, type ReplyHandler } from './receiver.js';
export { waitFor } from './wait-for.js';
export { mountSmallFilesystem, type SmallFilesystem } from './small-filesystem.js';
