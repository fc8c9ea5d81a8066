import { rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchContext } from '../context.js';
import { sharedDataset } from '../dataset.js';
import { childScript, runForResult } from '../proc.js';
import { makeRow, type ScenarioResult } from '../result.js';
import { pick } from '../runner.js';
import { perSecond } from '../stats.js';

const SECRET_KEY = Buffer.alloc(32, 0x24).toString('base64');

/** Runs `export` or `import` in a fresh process; returns its figures, its own peak RSS included. */
async function runSide(mode: 'export' | 'import', dbPath: string, file: string) {
  const result = await runForResult({ args: [childScript('log-file-side'), mode, dbPath, file], env: { BENCH_SECRET_KEY: SECRET_KEY } }, 15 * 60_000);
  return { perSecond: perSecond(Number(result.events), Number(result.ms)), events: Number(result.events), peakRssMb: Number(result.peakRssMb) };
}

/**
 * SPEC §12's export-log and import-log over the shared log of 1,000,000
 * executions: the export into an NDJSON file, then its import into a new
 * SQLite database (which rebuilds the read models), each in its own process.
 * The claim under test is flat memory: peak RSS must not grow with the log
 * (the file is several times the limit).
 */
export async function logFileScenario(ctx: BenchContext): Promise<ScenarioResult> {
  const dataset = await sharedDataset(ctx);
  const started = performance.now();
  const dir = ctx.tempDir('log-file');
  const file = join(dir, 'log.ndjson');
  const exports: Awaited<ReturnType<typeof runSide>>[] = [];
  const imports: Awaited<ReturnType<typeof runSide>>[] = [];
  try {
    for (let rep = 0; rep < ctx.sizes.rebuildReps; rep++) {
      exports.push(await runSide('export', dataset.dbPath, file));
      const target = join(dir, `import-${rep}.db`);
      imports.push(await runSide('import', target, file));
      for (const suffix of ['', '-wal', '-shm', '.key']) rmSync(target + suffix, { force: true });
      ctx.log(`log-file rep ${rep + 1}/${ctx.sizes.rebuildReps}: export ${exports.at(-1)!.perSecond.toFixed(0)}/s, import ${imports.at(-1)!.perSecond.toFixed(0)}/s`);
    }
    const fileMb = statSync(file).size / 1e6;
    const events = exports[0]!.events;
    const result: ScenarioResult = { id: 'log-file', title: 'export-log / import-log', rows: [], details: { events, fileMb }, notes: [], durationMs: 0 };
    const count = events.toLocaleString('en-US');
    result.rows.push(
      makeRow({ scenario: result.title, case: `export-log of ${count} events to an NDJSON file (${fileMb.toFixed(0)} MB)`, unit: 'events/s', higherIsBetter: true, product: pick(exports, 'perSecond') }),
      makeRow({
        scenario: result.title,
        case: 'peak RSS of the exporting process',
        unit: 'MB',
        higherIsBetter: false,
        product: pick(exports, 'peakRssMb'),
        target: { kind: 'below', value: 200, unit: 'MB', of: 'max' },
        targetApplies: !ctx.quick,
      }),
      makeRow({ scenario: result.title, case: `import-log of that file into a new SQLite database, read models rebuilt`, unit: 'events/s', higherIsBetter: true, product: pick(imports, 'perSecond') }),
      makeRow({
        scenario: result.title,
        case: 'peak RSS of the importing process',
        unit: 'MB',
        higherIsBetter: false,
        product: pick(imports, 'peakRssMb'),
        target: { kind: 'below', value: 200, unit: 'MB', of: 'max' },
        targetApplies: !ctx.quick,
      }),
    );
    result.notes.push('The same functions the CLI commands run (exportLog, importLog), each side in its own child process (peak RSS = its VmHWM / maxRSS). The limit is the rebuild\'s: an export or import that held the log in memory would pass it several times over.');
    result.durationMs = performance.now() - started;
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
