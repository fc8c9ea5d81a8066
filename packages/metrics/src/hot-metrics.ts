import type { Metric, Registry } from 'prom-client';

/**
 * Counters and histograms for the hot paths (every delivery attempt, every
 * API request). prom-client's own hash their label object on every call;
 * these hand out one child per label set, resolved once, whose `inc` and
 * `observe` are a few arithmetic operations. They register into a
 * prom-client `Registry` (anything with a name and `get()`), which writes
 * the exposition as for its own metrics.
 */

type Labels = Record<string, string>;

/** What prom-client's registry reads from a metric to write its exposition. */
interface Exposition {
  name: string;
  help: string;
  type: 'counter' | 'histogram';
  aggregator: 'sum';
  values: { metricName?: string; labels: Labels; value: number }[];
}

/** prom-client's registry takes any object shaped like its metrics. */
function register(registry: Registry, metric: { name: string }): void {
  registry.registerMetric(metric as unknown as Metric);
}

export class CounterChild {
  value = 0;
  constructor(readonly labels: Labels) {}
  inc(): void {
    this.value++;
  }
}

export class HistogramChild {
  /** Per bucket, not cumulative (the exposition sums them); the last one is +Inf. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  constructor(
    readonly labels: Labels,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    const { bounds } = this;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    this.counts[i]!++;
    this.sum += value;
    this.count++;
  }
}

/** A metric of children, one per label set, made on first use (keep the child: don't ask per call). */
abstract class HotMetric<C extends { labels: Labels }> {
  readonly aggregator = 'sum' as const;
  protected readonly children = new Map<string, C>();

  constructor(
    registry: Registry,
    readonly name: string,
    readonly help: string,
    private readonly labelNames: readonly string[],
  ) {
    register(registry, this);
  }

  protected abstract make(labels: Labels): C;

  child(...values: string[]): C {
    const key = values.join('\u0000');
    let child = this.children.get(key);
    if (child === undefined) {
      child = this.make(Object.fromEntries(this.labelNames.map((name, i) => [name, values[i]!])));
      this.children.set(key, child);
    }
    return child;
  }
}

export class HotCounter extends HotMetric<CounterChild> {
  readonly type = 'counter' as const;

  protected make(labels: Labels): CounterChild {
    return new CounterChild(labels);
  }

  async get(): Promise<Exposition> {
    const values = [...this.children.values()].map((child) => ({ labels: child.labels, value: child.value }));
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}

export class HotHistogram extends HotMetric<HistogramChild> {
  readonly type = 'histogram' as const;

  constructor(registry: Registry, name: string, help: string, labelNames: readonly string[], private readonly bounds: readonly number[]) {
    super(registry, name, help, labelNames);
  }

  protected make(labels: Labels): HistogramChild {
    return new HistogramChild(labels, this.bounds);
  }

  async get(): Promise<Exposition> {
    const values: Exposition['values'] = [];
    for (const child of this.children.values()) {
      let cumulative = 0;
      child.counts.forEach((n, i) => {
        cumulative += n;
        const le = i < this.bounds.length ? String(this.bounds[i]) : '+Inf';
        values.push({ metricName: `${this.name}_bucket`, labels: { le, ...child.labels }, value: cumulative });
      });
      values.push({ metricName: `${this.name}_sum`, labels: child.labels, value: child.sum });
      values.push({ metricName: `${this.name}_count`, labels: child.labels, value: child.count });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}
