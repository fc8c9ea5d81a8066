import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname } from 'node:path';
import type { Sizes } from './context.js';
import { describeTarget, type Row, type ScenarioResult } from './result.js';
import type { Summary } from './stats.js';

export interface RunMeta {
  startedAt: string;
  finishedAt: string;
  mode: 'full' | 'quick';
  node: string;
  platform: string;
  cpus: number;
  cpuModel: string;
  memoryGb: number;
  loadAverageAtStart: number[];
  loadAverageAtEnd: number[];
  gitCommit: string | null;
  gitDirty: boolean | null;
  sizes: Sizes;
  durationMs: number;
}

export interface BenchReport {
  meta: RunMeta;
  scenarios: ScenarioResult[];
}

export function machineMeta(): Pick<RunMeta, 'node' | 'platform' | 'cpus' | 'cpuModel' | 'memoryGb' | 'gitCommit' | 'gitDirty'> {
  const git = (args: string[]): string | null => {
    try {
      return execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      return null;
    }
  };
  const status = git(['status', '--porcelain']);
  return {
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGb: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    gitCommit: git(['rev-parse', '--short', 'HEAD']),
    gitDirty: status === null ? null : status.length > 0,
  };
}

export const currentLoad = (): number[] => loadavg().map((v) => Math.round(v * 100) / 100);

/** A figure in a unit-appropriate precision. */
export function formatValue(value: number, unit: string): string {
  if (!Number.isFinite(value)) return '—';
  if (unit === 'MB') return value.toFixed(1);
  if (unit.startsWith('ms')) {
    if (value < 10) return value.toFixed(3);
    if (value < 100) return value.toFixed(1);
    return Math.round(value).toLocaleString('en-US');
  }
  if (unit.endsWith('/s')) return Math.round(value).toLocaleString('en-US');
  if (Number.isInteger(value)) return value.toLocaleString('en-US');
  return value < 10 ? value.toFixed(2) : Math.round(value).toLocaleString('en-US');
}

const range = (s: Summary, unit: string): string =>
  s.samples.length > 1 ? ` (${formatValue(s.min, unit)}–${formatValue(s.max, unit)})` : '';

const cell = (s: Summary | undefined, unit: string): string => (s ? `${formatValue(s.median, unit)}${range(s, unit)}` : '—');

function ratioCell(row: Row): string {
  if (!row.ratio || !Number.isFinite(row.ratio.value)) return '—';
  const paired =
    row.product.samples.length > 1 && Number.isFinite(row.ratio.pairedMin)
      ? ` (${row.ratio.pairedMin.toFixed(2)}–${row.ratio.pairedMax.toFixed(2)})`
      : '';
  return `${row.ratio.value.toFixed(2)}×${paired}`;
}

function verdictCell(row: Row): string {
  if (row.pass === undefined) return '';
  if (row.pass === null) return 'n/a';
  return row.pass ? '✅ pass' : '❌ miss';
}

const escape = (text: string): string => text.replace(/\|/g, '\\|');

/** The markdown table (one row per measured quantity) followed by each scenario's notes. */
export function renderMarkdown(report: BenchReport): string {
  const { meta } = report;
  const lines: string[] = [];
  lines.push(
    `Benchmark ${meta.mode === 'quick' ? '(--quick: reduced data, targets tied to the full data set are n/a)' : '(full)'}, ${meta.startedAt.slice(0, 10)}, ` +
      `${meta.cpus} × ${meta.cpuModel}, ${meta.memoryGb} GB, Node ${meta.node}, commit ${meta.gitCommit ?? '?'}${meta.gitDirty ? ' (dirty)' : ''}, ` +
      `load average ${meta.loadAverageAtStart.join('/')} → ${meta.loadAverageAtEnd.join('/')}, ${(meta.durationMs / 1000).toFixed(0)} s.`,
  );
  lines.push('Figures: median of the repetitions (min–max); ratio = median(product) / median(ceiling) (per-repetition paired ratios min–max).');
  lines.push('');
  lines.push('| scenario | case | unit | product | ceiling (same run) | ratio | target | result |');
  lines.push('|---|---|---|---|---|---|---|---|');
  for (const scenario of report.scenarios) {
    if (scenario.skipped || scenario.error) {
      lines.push(`| ${escape(scenario.title)} | ${scenario.skipped ? `skipped: ${escape(scenario.skipped)}` : `error: ${escape(scenario.error!.split('\n')[0]!)}`} | | | | | | ⚠️ |`);
      continue;
    }
    for (const row of scenario.rows) {
      lines.push(
        `| ${escape(row.scenario)} | ${escape(row.case)} | ${row.unit} | ${cell(row.product, row.unit)} | ${cell(row.ceiling, row.unit)} | ${ratioCell(row)} | ${describeTarget(row.target)} | ${verdictCell(row)} |`,
      );
    }
  }
  const notes = report.scenarios.flatMap((s) => [...s.notes, ...s.rows.filter((r) => r.note).map((r) => `${r.case}: ${r.note}`)].map((n) => `- **${s.title}**: ${n}`));
  if (notes.length) lines.push('', ...notes);
  return `${lines.join('\n')}\n`;
}

export function writeReport(path: string, report: BenchReport): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(report, (_, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`);
}
