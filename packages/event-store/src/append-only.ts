/** The triggers that make the log append-only whatever code runs against the file (one definition for the migration and the upgrade). */
export const APPEND_ONLY_TRIGGERS = {
  events_no_update: "CREATE TRIGGER events_no_update BEFORE UPDATE ON events BEGIN SELECT RAISE(ABORT, 'events are append-only'); END",
  events_no_delete: "CREATE TRIGGER events_no_delete BEFORE DELETE ON events BEGIN SELECT RAISE(ABORT, 'events are append-only'); END",
} as const;

/** The same rule on PostgreSQL: a trigger function refusing UPDATE, DELETE and TRUNCATE of `events`. */
export const POSTGRES_APPEND_ONLY = [
  `CREATE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
   BEGIN RAISE EXCEPTION 'events are append-only'; END $$`,
  'CREATE TRIGGER events_no_update BEFORE UPDATE OR DELETE ON events FOR EACH ROW EXECUTE FUNCTION events_append_only()',
  'CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events FOR EACH STATEMENT EXECUTE FUNCTION events_append_only()',
] as const;
