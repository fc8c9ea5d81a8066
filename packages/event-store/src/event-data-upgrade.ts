import { APPEND_ONLY_TRIGGERS } from './append-only.js';
import { inList, listParam, type TxSql } from './sql.js';

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
export async function upgradeEventData(
  tx: TxSql,
  types: readonly string[],
  rewrite: (event: { streamId: string; type: string; data: unknown }) => unknown,
): Promise<number> {
  const select = `SELECT global_position, stream_id, type, data FROM events
     WHERE ${inList(tx.dialect, 'type')} AND global_position > ? ORDER BY global_position LIMIT ?`;
  if (tx.dialect === 'sqlite') await tx.run('DROP TRIGGER events_no_update');
  else await tx.run('ALTER TABLE events DISABLE TRIGGER events_no_update');
  let changed = 0;
  let after = 0;
  for (;;) {
    const rows = await tx.all<{ global_position: number; stream_id: string; type: string; data: string }>(select, [listParam(tx.dialect, types), after, BATCH]);
    for (const row of rows) {
      const data = rewrite({ streamId: row.stream_id, type: row.type, data: JSON.parse(row.data) });
      if (data !== undefined) {
        await tx.run('UPDATE events SET data = ? WHERE global_position = ?', [JSON.stringify(data), row.global_position]);
        changed++;
      }
    }
    if (rows.length < BATCH) break;
    after = rows[rows.length - 1]!.global_position;
  }
  if (tx.dialect === 'sqlite') await tx.run(APPEND_ONLY_TRIGGERS.events_no_update);
  else await tx.run('ALTER TABLE events ENABLE TRIGGER events_no_update');
  return changed;
}
