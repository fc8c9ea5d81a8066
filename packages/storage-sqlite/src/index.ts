export { SqliteDatabase, openSqliteDatabase, type SqliteDatabaseOptions } from './sqlite-database.js';
export { BackgroundCheckpoints, setCheckpointThreadEntry, type CheckpointThreadEntry } from './background-checkpoints.js';
export { ConnectionSql } from './connection-sql.js'; // wrapped by the bench's statement timer (tools/bench/src/statement-timer.ts)
export { setDefaultNativeBinding, type OpenDatabaseOptions, type SqliteConnection } from './open-file.js';
export { loadAddon } from './load-addon.js';
