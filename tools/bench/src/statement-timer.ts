/**
 * A preload (`node --import`) that times every statement the SQLite
 * adapter runs in this process, by SQL text: count, total and mean. For
 * finding which statements a path pays for (README, "Where the time goes"):
 *
 *   NODE_OPTIONS="--import ./tools/bench/dist/statement-timer.js" \
 *   HANDINGER_BENCH_STATEMENT_TIMES=/tmp/statements.txt npx handinger-webhooks serve …
 *
 * The file is rewritten every 2 s and at exit, the costliest statement first.
 * Timing adds well under a microsecond per statement.
 */
import { writeFileSync } from 'node:fs';
import { ConnectionSql } from '@handinger-webhooks/storage-sqlite';

const out = process.env.HANDINGER_BENCH_STATEMENT_TIMES ?? `statement-times-${process.pid}.txt`;
const times = new Map<string, { n: number; ms: number }>();
const proto = ConnectionSql.prototype as unknown as Record<'run' | 'get' | 'all' | 'insert', (text: string, params?: unknown[]) => unknown>;

for (const method of ['run', 'get', 'all', 'insert'] as const) {
  const original = proto[method];
  proto[method] = function timed(this: unknown, text: string, params?: unknown[]) {
    const started = performance.now();
    try {
      return original.call(this, text, params);
    } finally {
      // Keyed by the SQL text itself (a map hit); normalised only when written out.
      let entry = times.get(text);
      if (entry === undefined) times.set(text, (entry = { n: 0, ms: 0 }));
      entry.n++;
      entry.ms += performance.now() - started;
    }
  };
}

function write(): void {
  const lines = [...times]
    .sort((a, b) => b[1].ms - a[1].ms)
    .map(([sql, t]) => `${t.ms.toFixed(0).padStart(7)} ms ${String(t.n).padStart(9)} × ${((t.ms * 1000) / t.n).toFixed(1).padStart(7)} µs  ${sql.replace(/\s+/g, ' ').slice(0, 120)}`);
  writeFileSync(out, `${lines.join('\n')}\n`);
}

process.on('exit', write);
setInterval(write, 2_000).unref();
