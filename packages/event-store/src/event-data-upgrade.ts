import { APPEND_ONLY_TRIGGERS } from './append-only.js';
import type { SqliteDatabase } from './database.js';

const BATCH = 1_000;

/**
 * A one-time upgrade of stored event data, for a change in how a fact is
 * stored rather than what it says (sealing secrets that older versions
 * stored in the clear). The only write to the log that is not an append:
 * it lifts the append-only trigger for the duration of the caller's
 * transaction and restores it before the commit, so no other writer ever
 * sees the log editable. `rewrite` returns the new data, or `undefined` to
 * leave an event as it is. Returns how many events changed.
 */
export function upgradeEventData(
  db: SqliteDatabase,
  types: readonly string[],
  rewrite: (event: { streamId: string; type: string; data: unknown }) => unknown,
): number {
  if (!db.inTransaction) throw new Error('upgradeEventData must run inside a write transaction');
  const select = db.prepare<[string, number, number], { global_position: number; stream_id: string; type: string; data: string }>(
    `SELECT global_position, stream_id, type, data FROM events
     WHERE type IN (SELECT value FROM json_each(?)) AND global_position > ?
     ORDER BY global_position LIMIT ?`,
  );
  const update = db.prepare<[string, number]>('UPDATE events SET data = ? WHERE global_position = ?');
  db.exec('DROP TRIGGER events_no_update');
  let changed = 0;
  let after = 0;
  for (;;) {
    const rows = select.all(JSON.stringify(types), after, BATCH);
    for (const row of rows) {
      const data = rewrite({ streamId: row.stream_id, type: row.type, data: JSON.parse(row.data) });
      if (data !== undefined) {
        update.run(JSON.stringify(data), row.global_position);
        changed++;
      }
    }
    if (rows.length < BATCH) break;
    after = rows[rows.length - 1]!.global_position;
  }
  db.exec(APPEND_ONLY_TRIGGERS.events_no_update);
  return changed;
}
