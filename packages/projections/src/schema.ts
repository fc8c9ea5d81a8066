import { randomBytes } from 'node:crypto';
import { DummyDriver, Kysely, SqliteAdapter, SqliteIntrospector, SqliteQueryCompiler, sql } from 'kysely';
import type { TableSet } from './tables.js';

/**
 * Bumped whenever a read model's shape or projection logic changes. Read
 * models are not migrated: they are rebuilt from the log, which is the
 * source of truth (see `ensureReadModels`).
 */
export const READ_MODELS_VERSION = 2;

/** Where the read models' version is kept. */
export const META_TABLE = 'read_models_meta';

/** Kysely as a DDL compiler only: callers run the SQL synchronously inside their own transaction. */
const schema = new Kysely<unknown>({
  dialect: {
    createAdapter: () => new SqliteAdapter(),
    createDriver: () => new DummyDriver(),
    createIntrospector: (db) => new SqliteIntrospector(db),
    createQueryCompiler: () => new SqliteQueryCompiler(),
  },
}).schema;

export function metaTableDdl(): string {
  return schema
    .createTable(META_TABLE)
    .ifNotExists()
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .compile().sql;
}

/**
 * The DDL of one set of read-model tables. Index names get a fresh tag
 * because SQLite keeps an index's name when its table is renamed at the swap.
 */
export function readModelDdl(t: TableSet): string[] {
  const tag = randomBytes(4).toString('hex');
  const index = (table: string, purpose: string) => `ix_${table}_${purpose}_${tag}`;
  return [
    schema
      .createTable(t.workers)
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('organization_id', 'text', (c) => c.notNull())
      .addColumn('user_id', 'text', (c) => c.notNull())
      .addColumn('title', 'text', (c) => c.notNull())
      .addColumn('instructions', 'text', (c) => c.notNull())
      .addColumn('summary', 'text', (c) => c.notNull())
      .addColumn('visibility', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addColumn('deleted_at', 'text'),

    // One row per configured webhook. `generation` is the global position of the
    // WebhookConfigured event: deliveries scheduled under another generation are dropped.
    schema
      .createTable(t.webhooks)
      .addColumn('worker_id', 'text', (c) => c.primaryKey())
      .addColumn('url', 'text', (c) => c.notNull())
      .addColumn('origin', 'text', (c) => c.notNull())
      .addColumn('token', 'text', (c) => c.notNull())
      .addColumn('signing_secret', 'text', (c) => c.notNull())
      .addColumn('generation', 'integer', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull()),

    // `seq` is the execution's 1-based rank in (created_at, id) order within its
    // worker; the table is clustered on (worker_id, seq), so page N is one range
    // read and totalCount is the worker's highest seq: one B-tree descent each,
    // whatever the page and the history's length. No counter table to write.
    schema
      .createTable(t.executions)
      .addColumn('worker_id', 'text', (c) => c.notNull())
      .addColumn('seq', 'integer', (c) => c.notNull())
      .addColumn('id', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('duration_ms', 'integer', (c) => c.notNull())
      .addColumn('error_message', 'text')
      .addColumn('request_status', 'text', (c) => c.notNull())
      .addColumn('response_status', 'integer')
      .addColumn('task_id', 'text')
      .addColumn('task_title', 'text')
      .addColumn('url', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint(`pk_${t.executions}_${tag}`, ['worker_id', 'seq'])
      .modifyEnd(sql`without rowid`),

    schema
      .createTable(t.apiKeys)
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('key_hash', 'text', (c) => c.notNull())
      .addColumn('role', 'text', (c) => c.notNull())
      .addColumn('organization_id', 'text')
      .addColumn('user_id', 'text')
      .addColumn('name', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('revoked_at', 'text'),
    schema.createIndex(index(t.apiKeys, 'hash')).unique().on(t.apiKeys).column('key_hash'),

    // Pending attempts, clustered by due time: claiming due work is a range read
    // and rescheduling moves one row within one B-tree (events carry the due
    // time of each attempt, so the projector finds the row by its key).
    schema
      .createTable(t.deliveryQueue)
      .addColumn('due_at', 'integer', (c) => c.notNull())
      .addColumn('delivery_id', 'text', (c) => c.notNull())
      .addColumn('worker_id', 'text', (c) => c.notNull())
      .addColumn('task_id', 'text', (c) => c.notNull())
      .addColumn('attempt', 'integer', (c) => c.notNull())
      .addColumn('webhook_generation', 'integer', (c) => c.notNull())
      .addPrimaryKeyConstraint(`pk_${t.deliveryQueue}_${tag}`, ['due_at', 'delivery_id'])
      .modifyEnd(sql`without rowid`),
  ].map((statement) => statement.compile().sql);
}
