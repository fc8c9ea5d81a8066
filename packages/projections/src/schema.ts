import { randomBytes } from 'node:crypto';
import {
  DummyDriver,
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  sql,
  type ColumnDataType,
  type Expression,
} from 'kysely';
import type { SqlDialect } from '@handinger-webhooks/event-store';
import type { TableSet } from './tables.js';

/**
 * Bumped whenever a read model's shape or projection logic changes. Read
 * models are not migrated: they are rebuilt from the log, which is the
 * source of truth (see `ensureReadModels`).
 */
export const READ_MODELS_VERSION = 8;

/** Where the read models' version is kept. */
export const META_TABLE = 'read_models_meta';

/** Kysely as a DDL compiler only: the SQL runs through the caller's transaction. */
const compilers: Record<SqlDialect, Kysely<unknown>['schema']> = {
  sqlite: new Kysely<unknown>({
    dialect: {
      createAdapter: () => new SqliteAdapter(),
      createDriver: () => new DummyDriver(),
      createIntrospector: (db) => new SqliteIntrospector(db),
      createQueryCompiler: () => new SqliteQueryCompiler(),
    },
  }).schema,
  postgres: new Kysely<unknown>({
    dialect: {
      createAdapter: () => new PostgresAdapter(),
      createDriver: () => new DummyDriver(),
      createIntrospector: (db) => new PostgresIntrospector(db),
      createQueryCompiler: () => new PostgresQueryCompiler(),
    },
  }).schema,
};

type DataType = ColumnDataType | Expression<unknown>;

/** Column types per dialect: text compared byte by byte on both (PostgreSQL's default collation is not), epoch ms in 64 bits. */
function types(dialect: SqlDialect): { text: DataType; millis: DataType; int: DataType } {
  return dialect === 'sqlite'
    ? { text: 'text', millis: 'integer', int: 'integer' }
    : { text: sql`text collate "C"`, millis: 'bigint', int: 'integer' };
}

/**
 * The live claims of the processes sending due attempts (not a read model:
 * not derived from the log, never rebuilt). A handful of rows, one per
 * attempt in flight (and a few lapsed ones of killed processes until
 * overwritten or purged), keyed by delivery.
 */
export const CLAIMS_TABLE = 'delivery_claims';

export function claimsTableDdl(dialect: SqlDialect): string {
  const { text, millis } = types(dialect);
  return compilers[dialect]
    .createTable(CLAIMS_TABLE)
    .ifNotExists()
    .addColumn('delivery_id', text, (c) => c.primaryKey())
    .addColumn('token', text, (c) => c.notNull())
    .addColumn('origin', text)
    .addColumn('owner', 'text', (c) => c.notNull())
    .addColumn('expires_at', millis, (c) => c.notNull())
    .modifyEnd(dialect === 'sqlite' ? sql`without rowid` : sql``)
    .compile().sql;
}

export function metaTableDdl(dialect: SqlDialect): string {
  return compilers[dialect].createTable(META_TABLE).ifNotExists().addColumn('key', 'text', (c) => c.primaryKey()).addColumn('value', 'text', (c) => c.notNull()).compile().sql;
}

/**
 * The DDL of one set of read-model tables, for one dialect. Index and
 * constraint names (primary keys too: PostgreSQL names their indexes) get a
 * fresh tag because a rebuild's tables are renamed into place and the names
 * must stay unique.
 */
export function readModelDdl(dialect: SqlDialect, t: TableSet): string[] {
  const schema = compilers[dialect];
  const { text, millis, int } = types(dialect);
  const tag = randomBytes(4).toString('hex');
  const name = (table: string, purpose: string) => `${purpose}_${table}_${tag}`;
  const clustered = dialect === 'sqlite' ? sql`without rowid` : sql``;
  return [
    schema
      .createTable(t.workers)
      .addColumn('id', text, (c) => c.notNull())
      .addColumn('organization_id', text, (c) => c.notNull())
      .addColumn('user_id', text, (c) => c.notNull())
      .addColumn('title', 'text', (c) => c.notNull())
      .addColumn('instructions', 'text', (c) => c.notNull())
      .addColumn('summary', 'text', (c) => c.notNull())
      .addColumn('visibility', 'text', (c) => c.notNull())
      .addColumn('created_at', text, (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addColumn('deleted_at', 'text')
      .addPrimaryKeyConstraint(name(t.workers, 'pk'), ['id']),
    // A creator's live workers, newest first (`GET /api/workers`).
    schema
      .createIndex(name(t.workers, 'ix_creator'))
      .on(t.workers)
      .columns(['organization_id', 'user_id', 'created_at', 'id'])
      .where(sql.ref('deleted_at'), 'is', null),

    // One row per configured webhook. `generation` is the global position of the
    // WebhookConfigured event: deliveries opened under another generation are dropped.
    // Secrets are stored sealed (SPEC §7).
    schema
      .createTable(t.webhooks)
      .addColumn('worker_id', text, (c) => c.notNull())
      .addColumn('url', 'text', (c) => c.notNull())
      .addColumn('origin', text, (c) => c.notNull())
      .addColumn('token', 'text', (c) => c.notNull())
      .addColumn('signing_secret', 'text', (c) => c.notNull())
      .addColumn('generation', millis, (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      // SPEC §8.1: the previous signing secret (sealed) signs too until then.
      .addColumn('previous_signing_secret', 'text')
      .addColumn('previous_secret_expires_at', 'text')
      // SPEC §8.5: status, and the failure span the automatic disable is decided from.
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('disabled_reason', 'text')
      .addColumn('disabled_at', 'text')
      .addColumn('held_count', int, (c) => c.notNull())
      .addColumn('failing_since', 'text')
      .addColumn('exhausted_in_span', int, (c) => c.notNull())
      .addPrimaryKeyConstraint(name(t.webhooks, 'pk'), ['worker_id']),

    // `seq` is the execution's 1-based rank in (created_at, id) order within its
    // worker; the table is keyed (clustered, on SQLite) by (worker_id, seq), so page N
    // is one range read and totalCount is the worker's highest seq: one B-tree
    // descent each, whatever the page and the history's length. No counter to write.
    schema
      .createTable(t.executions)
      .addColumn('worker_id', text, (c) => c.notNull())
      .addColumn('seq', int, (c) => c.notNull())
      .addColumn('id', text, (c) => c.notNull())
      .addColumn('created_at', text, (c) => c.notNull())
      .addColumn('duration_ms', int, (c) => c.notNull())
      .addColumn('error_message', 'text')
      .addColumn('request_status', 'text', (c) => c.notNull())
      .addColumn('response_status', int)
      .addColumn('task_id', 'text')
      .addColumn('task_title', 'text')
      .addColumn('url', 'text', (c) => c.notNull())
      // The detail (SPEC §8.7) is rebuilt from the notification's stream, found through it.
      .addColumn('delivery_id', text, (c) => c.notNull())
      .addPrimaryKeyConstraint(name(t.executions, 'pk'), ['worker_id', 'seq'])
      .modifyEnd(clustered),
    schema.createIndex(name(t.executions, 'ix_id')).unique().on(t.executions).column('id'),

    schema
      .createTable(t.apiKeys)
      .addColumn('id', text, (c) => c.notNull())
      .addColumn('key_hash', text, (c) => c.notNull())
      .addColumn('role', 'text', (c) => c.notNull())
      .addColumn('organization_id', 'text')
      .addColumn('user_id', 'text')
      .addColumn('name', 'text')
      .addColumn('created_at', text, (c) => c.notNull())
      .addColumn('revoked_at', 'text')
      .addPrimaryKeyConstraint(name(t.apiKeys, 'pk'), ['id']),
    schema.createIndex(name(t.apiKeys, 'ix_hash')).unique().on(t.apiKeys).column('key_hash'),

    // Pending deliveries, one row each with its next attempt: what the delivery
    // app claims from, clustered (on SQLite) by due time, so claiming due work is
    // a range read and rescheduling moves one row within one B-tree. Every
    // delivery event carries the due time of the attempt it concerns, so the
    // projection finds the row by its key. A row is a snapshot of its stream
    // (`version`): an attempt is decided without reading the stream. `origin`
    // is the webhook's when the delivery was scheduled (null: none), indexed,
    // so a claim can pass over a full origin's backlog without reading it.
    schema
      .createTable(t.deliveryQueue)
      .addColumn('due_at', millis, (c) => c.notNull())
      .addColumn('delivery_id', text, (c) => c.notNull())
      .addColumn('worker_id', text, (c) => c.notNull())
      .addColumn('task_id', 'text')
      .addColumn('task_position', millis, (c) => c.notNull())
      .addColumn('generation', millis, (c) => c.notNull())
      .addColumn('attempt', int, (c) => c.notNull())
      .addColumn('version', int, (c) => c.notNull())
      .addColumn('origin', text)
      // Why the next attempt is made, whether it is a single attempt, for which recovery, and since when the notification is attempted.
      .addColumn('trigger', 'text', (c) => c.notNull())
      .addColumn('one_shot', int, (c) => c.notNull())
      .addColumn('recovery_id', 'text')
      .addColumn('first_attempted_at', 'text')
      .addPrimaryKeyConstraint(name(t.deliveryQueue, 'pk'), ['due_at', 'delivery_id'])
      .modifyEnd(clustered),
    schema.createIndex(name(t.deliveryQueue, 'ix_origin')).on(t.deliveryQueue).columns(['origin', 'due_at', 'delivery_id']),

    // The queue rows of disabled webhooks, set aside until an enable puts them back (oldest first: delivery ids are ULIDs).
    schema
      .createTable(t.heldDeliveries)
      .addColumn('worker_id', text, (c) => c.notNull())
      .addColumn('delivery_id', text, (c) => c.notNull())
      .addColumn('task_id', 'text')
      .addColumn('task_position', millis, (c) => c.notNull())
      .addColumn('generation', millis, (c) => c.notNull())
      .addColumn('attempt', int, (c) => c.notNull())
      .addColumn('version', int, (c) => c.notNull())
      .addColumn('one_shot', int, (c) => c.notNull())
      .addColumn('recovery_id', 'text')
      .addColumn('first_attempted_at', 'text')
      .addPrimaryKeyConstraint(name(t.heldDeliveries, 'pk'), ['worker_id', 'delivery_id'])
      .modifyEnd(clustered),

    // Notifications whose last attempt failed with nothing pending, by when they were first attempted.
    schema
      .createTable(t.failedDeliveries)
      .addColumn('worker_id', text, (c) => c.notNull())
      .addColumn('first_attempted_at', text, (c) => c.notNull())
      .addColumn('delivery_id', text, (c) => c.notNull())
      .addColumn('failed_position', millis, (c) => c.notNull())
      .addPrimaryKeyConstraint(name(t.failedDeliveries, 'pk'), ['worker_id', 'first_attempted_at', 'delivery_id'])
      .modifyEnd(clustered),
    schema.createIndex(name(t.failedDeliveries, 'ix_delivery')).unique().on(t.failedDeliveries).column('delivery_id'),

    schema
      .createTable(t.recoveries)
      .addColumn('id', text, (c) => c.notNull())
      .addColumn('worker_id', text, (c) => c.notNull())
      .addColumn('since', 'text', (c) => c.notNull())
      .addColumn('until', 'text', (c) => c.notNull())
      .addColumn('total', int, (c) => c.notNull())
      .addColumn('selected_up_to', millis, (c) => c.notNull())
      .addColumn('scheduled', int, (c) => c.notNull())
      .addColumn('sent', int, (c) => c.notNull())
      // How many it resent, once its scheduling ended (null while running).
      .addColumn('resent', int)
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('completed_at', 'text')
      .addPrimaryKeyConstraint(name(t.recoveries, 'pk'), ['id']),

    // Live portal links (SPEC §9.1), found by the hash of their credential.
    schema
      .createTable(t.portalSessions)
      .addColumn('id', text, (c) => c.notNull())
      .addColumn('credential_hash', text, (c) => c.notNull())
      .addColumn('worker_id', text, (c) => c.notNull())
      .addColumn('generation', millis, (c) => c.notNull())
      .addColumn('read_only', int, (c) => c.notNull())
      .addColumn('expires_at', text, (c) => c.notNull())
      .addColumn('created_at', text, (c) => c.notNull())
      .addPrimaryKeyConstraint(name(t.portalSessions, 'pk'), ['id']),
    schema.createIndex(name(t.portalSessions, 'ix_hash')).unique().on(t.portalSessions).column('credential_hash'),
    schema.createIndex(name(t.portalSessions, 'ix_worker')).on(t.portalSessions).columns(['worker_id', 'expires_at']),
  ].map((statement) => statement.compile().sql);
}
