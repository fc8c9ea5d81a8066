import { summarize, type Summary } from './stats.js';

/** A pass/fail rule for one row. */
export type Target =
  /** product / ceiling (ratio of the medians) must be at least `value`. */
  | { kind: 'ratio-at-least'; value: number }
  /** product / ceiling must be at most `value` (CPU per delivery: ours the lowest is ≤ 1×). */
  | { kind: 'ratio-at-most'; value: number }
  /** The product's figure (its median, or its max over the repetitions) must stay below `value`. */
  | { kind: 'below'; value: number; unit: string; of: 'median' | 'max' };

/** One line of the table: one measured quantity of one scenario, product beside its ceiling. */
export interface Row {
  scenario: string;
  /** What was measured, e.g. "RecordDelivery, sequential". */
  case: string;
  /** Unit of the product/ceiling figures, e.g. "commands/s", "ms", "MB". */
  unit: string;
  /** true when a larger figure is better (throughput), false for latency and memory. */
  higherIsBetter: boolean;
  product: Summary;
  ceiling?: Summary;
  /** Median(product) / median(ceiling), and the range of the per-repetition paired ratios. */
  ratio?: { value: number; pairedMin: number; pairedMax: number };
  target?: Target;
  /** `null` when the target does not apply to this run (e.g. reduced data in --quick). */
  pass?: boolean | null;
  note?: string;
}

export interface ScenarioResult {
  id: string;
  title: string;
  rows: Row[];
  /** Anything worth keeping in the JSON: query plans, sizes, per-side details. */
  details: Record<string, unknown>;
  notes: string[];
  skipped?: string;
  error?: string;
  durationMs: number;
}

/** Builds a row from per-repetition samples; ratio and verdict are derived here, never by hand. */
export function makeRow(options: {
  scenario: string;
  case: string;
  unit: string;
  higherIsBetter: boolean;
  product: readonly number[];
  ceiling?: readonly number[];
  target?: Target;
  /** When false the verdict is reported as n/a (e.g. --quick uses smaller data than the target is defined on). */
  targetApplies?: boolean;
  note?: string;
}): Row {
  const product = summarize(options.product);
  const row: Row = {
    scenario: options.scenario,
    case: options.case,
    unit: options.unit,
    higherIsBetter: options.higherIsBetter,
    product,
  };
  if (options.ceiling && options.ceiling.length > 0) {
    const ceiling = summarize(options.ceiling);
    row.ceiling = ceiling;
    const paired = options.product
      .map((p, i) => (options.ceiling![i] !== undefined ? p / options.ceiling![i]! : Number.NaN))
      .filter((r) => Number.isFinite(r));
    row.ratio = {
      value: product.median / ceiling.median,
      pairedMin: paired.length ? Math.min(...paired) : Number.NaN,
      pairedMax: paired.length ? Math.max(...paired) : Number.NaN,
    };
  }
  if (options.target) {
    row.target = options.target;
    row.pass = options.targetApplies === false ? null : verdict(row, options.target);
  }
  if (options.note) row.note = options.note;
  return row;
}

function verdict(row: Row, target: Target): boolean | null {
  if (target.kind === 'ratio-at-least' || target.kind === 'ratio-at-most') {
    if (!row.ratio || !Number.isFinite(row.ratio.value)) return null;
    return target.kind === 'ratio-at-least' ? row.ratio.value >= target.value : row.ratio.value <= target.value;
  }
  const figure = target.of === 'max' ? row.product.max : row.product.median;
  if (!Number.isFinite(figure)) return null;
  return figure < target.value;
}

export function describeTarget(target: Target | undefined): string {
  if (!target) return '—';
  if (target.kind === 'ratio-at-least') return `≥ ${target.value}×`;
  if (target.kind === 'ratio-at-most') return `≤ ${target.value}×`;
  return `< ${target.value} ${target.unit}${target.of === 'max' ? ' (worst rep)' : ''}`;
}
