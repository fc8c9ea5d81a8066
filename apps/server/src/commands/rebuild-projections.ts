import cliProgress from 'cli-progress';
import { openStorage } from '@handinger-webhooks/commands';
import { EVENT_STORE_MIGRATIONS, EventLog } from '@handinger-webhooks/event-store';
import { rebuildReadModels, type RebuildProgress } from '@handinger-webhooks/projections';

/** Shows progress: a bar with events/s and ETA on a terminal, a plain line every few seconds otherwise. */
function progressReporter(stream: NodeJS.WriteStream, label: string) {
  const started = performance.now();
  const rate = (processed: number) => Math.round(processed / Math.max(0.001, (performance.now() - started) / 1000));
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      { format: `${label} [{bar}] {percentage}% | {value}/{total} events | {rate} events/s | ETA {eta_formatted}`, stream, fps: 10 },
      cliProgress.Presets.shades_classic,
    );
    let startedBar = false;
    return {
      update({ processed, total }: RebuildProgress) {
        if (!startedBar) bar.start(total, 0, { rate: 0 });
        startedBar = true;
        bar.setTotal(total);
        bar.update(processed, { rate: rate(processed) });
      },
      done() {
        if (startedBar) bar.stop();
        startedBar = false;
      },
    };
  }
  let lastLine = 0;
  return {
    update({ processed, total }: RebuildProgress) {
      const now = performance.now();
      if (now - lastLine < 2_000 && processed < total) return;
      lastLine = now;
      const eta = Math.round((total - processed) / Math.max(1, rate(processed)));
      stream.write(`${label}: ${processed}/${total} events (${Math.floor((processed / Math.max(1, total)) * 100)}%), ${rate(processed)} events/s, ETA ${eta}s\n`);
    },
    done() {},
  };
}

/**
 * `rebuild-projections [--verify]`: rebuilds every read model from the log
 * (aside, then swapped in atomically) while a server may keep running; with
 * `--verify`, compares instead and returns exit status 1 on any difference.
 */
export async function rebuildProjections(location: string, verify: boolean): Promise<number> {
  // A rebuild writes every read model again: its checkpoints go to a thread, as serve's do.
  const db = await openStorage(location, { backgroundCheckpoints: true });
  const progress = progressReporter(process.stderr, verify ? 'verifying' : 'rebuilding');
  const started = performance.now();
  try {
    await db.migrate('event-store', EVENT_STORE_MIGRATIONS);
    const result = await rebuildReadModels(db, new EventLog(db), { verify, onProgress: (p) => progress.update(p) });
    progress.done();
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    if (!verify) {
      process.stdout.write(`rebuilt the read models from ${result.events} events in ${seconds}s\n`);
      return 0;
    }
    if (result.difference === null) {
      process.stdout.write(`verified: the read models match the ${result.events} events of the log (${seconds}s)\n`);
      return 0;
    }
    process.stdout.write(`verify failed: ${result.difference}\n`);
    return 1;
  } finally {
    progress.done();
    await db.close();
  }
}
