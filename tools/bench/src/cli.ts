#!/usr/bin/env node
/**
 * `npm run bench [-- --quick] [-- --only a,b] …`: runs each scenario's raw
 * ceiling and product side by side, prints a markdown table and writes a
 * JSON (and markdown) report. See tools/bench/README.md.
 */
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { FULL, QUICK, REPO_ROOT, createContext, type BenchContext, type Sizes } from './context.js';
import { stopAllChildren } from './proc.js';
import { currentLoad, machineMeta, renderMarkdown, writeReport, type BenchReport } from './report.js';
import type { ScenarioResult } from './result.js';
import { apiHttpScenario } from './scenarios/api-http.js';
import { commandPathScenario } from './scenarios/command-path.js';
import { backlogScenario } from './scenarios/backlog.js';
import { deliveryScenario } from './scenarios/delivery.js';
import { postgresDeliveryScenario } from './scenarios/delivery-postgres.js';
import { latencyScenario } from './scenarios/latency.js';
import { claimHintsScenario } from './scenarios/claim-hints.js';
import { executionPagesScenario } from './scenarios/execution-pages.js';
import { metricsOverheadScenario } from './scenarios/metrics-overhead.js';
import { logFileScenario } from './scenarios/log-file.js';
import { rebuildScenario } from './scenarios/rebuild.js';
import { startupScenario } from './scenarios/startup.js';

interface ScenarioEntry {
  id: string;
  title: string;
  run: (ctx: BenchContext) => Promise<ScenarioResult | ScenarioResult[]>;
}

/** In run order. The page, API, rebuild and log-file scenarios share one seeded database. */
export const SCENARIOS: ScenarioEntry[] = [
  { id: 'command-path', title: 'command path (sequential and 64 callers)', run: commandPathScenario },
  { id: 'pages', title: 'execution pages', run: executionPagesScenario },
  { id: 'api', title: 'API over HTTP', run: apiHttpScenario },
  { id: 'rebuild', title: 'rebuild', run: rebuildScenario },
  { id: 'log-file', title: 'export-log / import-log (SPEC §12)', run: logFileScenario },
  { id: 'delivery', title: 'end-to-end delivery and server memory', run: deliveryScenario },
  { id: 'claim-hints', title: 'claim hints on vs off', run: claimHintsScenario },
  { id: 'latency', title: 'delivery latency at 1,000 completions/s', run: latencyScenario },
  { id: 'delivery-postgres', title: 'end-to-end delivery on PostgreSQL (1, 2, 4 deliver processes)', run: postgresDeliveryScenario },
  { id: 'metrics', title: 'metrics overhead (on vs off, same run)', run: metricsOverheadScenario },
  { id: 'backlog', title: 'backlog of 1,000,000 due notifications (receiver down, then up)', run: backlogScenario },
  { id: 'startup', title: 'startup', run: startupScenario },
];

const USAGE = `usage: npm run bench -- [options]

  --quick              small sizes for CI (whole run well under a minute); absolute targets tied to
                       the full data set are reported as n/a
  --only ID[,ID]       run only these scenarios (${SCENARIOS.map((s) => s.id).join(', ')})
  --skip ID[,ID]       run all but these
  --reps N             repetitions per side (default ${FULL.reps}, quick ${QUICK.reps})
  --out FILE           JSON report path (default bench-results/latest.json; a .md beside it)
  --cpu-prof-dir DIR   run product-side child processes (server, rebuild) with --cpu-prof into DIR
  --startup-bin PATH   also time PATH serve … in the startup scenario (repeatable; e.g. a single executable)
  --size NAME=N        override one size (repeatable), e.g. --size deliveries=20000 --size httpDurationMs=10000
  --strict             exit 1 when a target is missed (default: only when a scenario fails to run)
  --help
`;

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      skip: { type: 'string' },
      reps: { type: 'string' },
      out: { type: 'string' },
      'cpu-prof-dir': { type: 'string' },
      'startup-bin': { type: 'string', multiple: true },
      size: { type: 'string', multiple: true },
      strict: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const list = (text: string | undefined) => (text ? text.split(',').map((s) => s.trim()).filter(Boolean) : undefined);
  const only = list(values.only);
  const skip = list(values.skip) ?? [];
  for (const id of [...(only ?? []), ...skip]) {
    if (!SCENARIOS.some((s) => s.id === id)) throw new Error(`unknown scenario "${id}" (known: ${SCENARIOS.map((s) => s.id).join(', ')})`);
  }
  const sizes: Sizes = { ...(values.quick ? QUICK : FULL) };
  if (values.reps) {
    const reps = Number(values.reps);
    if (!Number.isInteger(reps) || reps < 1) throw new Error('--reps must be a positive integer');
    sizes.reps = reps;
    sizes.rebuildReps = Math.min(sizes.rebuildReps, reps);
    sizes.startupReps = reps;
  }
  for (const assignment of values.size ?? []) {
    const [key, value] = assignment.split('=');
    if (!key || !(key in sizes) || value === undefined || !Number.isFinite(Number(value)) || Number(value) <= 0) {
      throw new Error(`--size ${assignment}: expected NAME=NUMBER with NAME one of ${Object.keys(sizes).join(', ')}`);
    }
    (sizes as unknown as Record<string, number>)[key] = Number(value);
  }
  const outPath = resolve(values.out ?? join(REPO_ROOT, 'bench-results', 'latest.json'));
  const ctx = createContext({
    quick: values.quick,
    sizes,
    ...(values['cpu-prof-dir'] ? { profileDir: resolve(values['cpu-prof-dir']) } : {}),
    startupBins: values['startup-bin'] ?? [],
  });

  const onSignal = (signal: NodeJS.Signals) => {
    process.stderr.write(`\n${signal}: stopping child processes and removing temp files\n`);
    void stopAllChildren()
      .then(() => ctx.cleanup())
      .finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const startedAt = new Date();
  const loadAtStart = currentLoad();
  const started = performance.now();
  const results: ScenarioResult[] = [];
  try {
    for (const scenario of SCENARIOS) {
      if (only && !only.includes(scenario.id)) continue;
      if (skip.includes(scenario.id)) continue;
      ctx.log(`— ${scenario.title}`);
      const scenarioStarted = performance.now();
      try {
        const produced = await scenario.run(ctx);
        for (const result of Array.isArray(produced) ? produced : [produced]) {
          if (!result.durationMs) result.durationMs = performance.now() - scenarioStarted;
          results.push(result);
          if (result.skipped) ctx.log(`skipped ${result.title}: ${result.skipped}`);
        }
      } catch (error) {
        const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
        ctx.log(`scenario ${scenario.id} failed: ${message}`);
        results.push({ id: scenario.id, title: scenario.title, rows: [], details: {}, notes: [], error: message, durationMs: performance.now() - scenarioStarted });
        await stopAllChildren();
      }
    }
  } finally {
    await stopAllChildren();
    await ctx.cleanup();
  }

  const report: BenchReport = {
    meta: {
      ...machineMeta(),
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      mode: values.quick ? 'quick' : 'full',
      loadAverageAtStart: loadAtStart,
      loadAverageAtEnd: currentLoad(),
      sizes,
      durationMs: performance.now() - started,
    },
    scenarios: results,
  };
  const markdown = renderMarkdown(report);
  writeReport(outPath, report);
  writeFileSync(outPath.replace(/\.json$/, '') + '.md', markdown);
  process.stdout.write(`\n${markdown}\nreport: ${outPath}\n`);

  const failed = results.filter((r) => r.error);
  const missed = results.flatMap((r) => r.rows).filter((row) => row.pass === false);
  if (failed.length) process.stderr.write(`${failed.length} scenario(s) failed to run: ${failed.map((r) => r.id).join(', ')}\n`);
  if (missed.length) process.stderr.write(`${missed.length} target(s) missed: ${missed.map((r) => `${r.scenario} / ${r.case}`).join('; ')}\n`);
  if (failed.length) return 1;
  return values.strict && missed.length ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  async (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
    await stopAllChildren();
    process.exit(2);
  },
);
