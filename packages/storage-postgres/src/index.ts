export { PostgresDatabase, openPostgresDatabase, type PostgresOptions } from './postgres-database.js';
export { redactUrl } from './location.js';
