import type { SchemaMigration } from '../database.js';
import { eventLog } from './001-event-log.js';
import { processors } from './002-processors.js';
import { storeMeta } from './003-store-meta.js';

/** The event store's schema, in order; names sort as they apply. Code, so the single executable needs no files. */
export const EVENT_STORE_MIGRATIONS: Readonly<Record<string, SchemaMigration>> = {
  '001-event-log': eventLog,
  '002-processors': processors,
  '003-store-meta': storeMeta,
};
