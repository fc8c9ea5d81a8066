/**
 * One side of the log-file scenario (SPEC §12), in its own process so its
 * peak RSS is its own: what `export-log --out FILE` and `import-log --in
 * FILE` run.
 *
 *   node log-file-side.js export DB_PATH FILE
 *   node log-file-side.js import DB_PATH FILE   (the key in BENCH_SECRET_KEY)
 *
 * Reports `{ type: 'result', ms, events, peakRssMb }` over IPC, then exits.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';
import { exportLog, importLog } from '@handinger-webhooks/commands';
import { exitWithParent, ownPeakRssMb, send } from './child.js';

async function exportTo(dbPath: string, file: string): Promise<number> {
  const out = createWriteStream(file, { mode: 0o600 });
  const events = await exportLog(dbPath, out);
  out.end();
  await finished(out);
  return events;
}

const importFrom = (dbPath: string, file: string): Promise<number> =>
  importLog({ db: dbPath, input: createReadStream(file), key: { text: process.env.BENCH_SECRET_KEY ?? '', source: 'BENCH_SECRET_KEY' } });

exitWithParent();
const [mode, dbPath, file] = process.argv.slice(2);
if ((mode !== 'export' && mode !== 'import') || !dbPath || !file) {
  process.stderr.write('usage: log-file-side.js export|import DB_PATH FILE\n');
  process.exit(2);
}
const started = performance.now();
const events = mode === 'export' ? await exportTo(dbPath, file) : await importFrom(dbPath, file);
await send({ type: 'result', ms: performance.now() - started, events, peakRssMb: ownPeakRssMb() });
process.exit(0);
