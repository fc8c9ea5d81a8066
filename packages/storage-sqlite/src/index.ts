export { SqliteDatabase, openSqliteDatabase } from './sqlite-database.js';
export { setDefaultNativeBinding, type OpenDatabaseOptions, type SqliteConnection } from './open-file.js';
