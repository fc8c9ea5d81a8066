/** One sample of a Prometheus text exposition. */
export interface MetricSample {
  /** The series' metric name, suffix included (`…_bucket`, `…_count`). */
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A scraped `/metrics`: its text, its samples, and the value of one series. */
export interface Scrape {
  text: string;
  samples: MetricSample[];
  /** The metric families declared (`# TYPE name type`). */
  families: Map<string, string>;
  /** The sum of every sample of `name` whose labels include `labels` (0 when none). */
  value(name: string, labels?: Record<string, string>): number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Parses the Prometheus text format (what prom-client writes: no timestamps). */
export function parseMetrics(text: string): Scrape {
  const samples: MetricSample[] = [];
  const families = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line.startsWith('# TYPE ')) {
      const [name, type] = line.slice(7).split(' ');
      families.set(name!, type!);
      continue;
    }
    if (line === '' || line.startsWith('#')) continue;
    const match = SAMPLE.exec(line);
    if (match === null) throw new Error(`not a Prometheus sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, raw] of (match[2] ?? '').matchAll(LABEL)) labels[key!] = raw!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return {
    text,
    samples,
    families,
    value: (name, labels = {}) =>
      samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((sum, s) => sum + s.value, 0),
  };
}

/** GETs `<baseUrl>/metrics` (with the bearer token when given) and parses it; throws on a non-200. */
export async function scrapeMetrics(baseUrl: string, token?: string): Promise<Scrape> {
  const response = await fetch(`${baseUrl}/metrics`, token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`GET /metrics answered ${response.status}: ${text.slice(0, 200)}`);
  return parseMetrics(text);
}
