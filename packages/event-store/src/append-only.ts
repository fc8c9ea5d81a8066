/** The triggers that make the log append-only whatever code runs against the file (one definition for the migration and the upgrade). */
export const APPEND_ONLY_TRIGGERS = {
  events_no_update: "CREATE TRIGGER events_no_update BEFORE UPDATE ON events BEGIN SELECT RAISE(ABORT, 'events are append-only'); END",
  events_no_delete: "CREATE TRIGGER events_no_delete BEFORE DELETE ON events BEGIN SELECT RAISE(ABORT, 'events are append-only'); END",
} as const;
