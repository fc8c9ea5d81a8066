import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { createTestDatabase, scrapeMetrics, startServerProcess, type Scrape, type ServerProcess, type TestDatabase } from '@handinger-webhooks/testing';

/**
 * The operator's kit in docs/ (issue 14): the Grafana dashboard and the
 * Prometheus alert rules parse, cover what an operator watches, and every
 * metric they reference is served by a real `serve` process's /metrics.
 */

const root = (path: string) => fileURLToPath(new URL(`../../../${path}`, import.meta.url));
const dashboard = JSON.parse(readFileSync(root('docs/grafana/handinger-webhooks.json'), 'utf8'));
const alerts = parseYaml(readFileSync(root('docs/prometheus/alerts.yml'), 'utf8'));

/** Series names a PromQL expression reads: identifiers followed by a selector or range, outside strings and label lists. */
function metricsOf(expr: string): string[] {
  // Strings, label matchers and range durations (`[$__rate_interval]`) are not series names.
  const bare = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""').replace(/\{[^}]*\}/g, '{}').replace(/\[[^\]]*\]/g, '[]');
  const keywords = new Set(['sum', 'by', 'rate', 'max', 'min', 'count', 'histogram_quantile', 'and', 'or', 'unless', 'without', 'avg', 'le', 'route', 'status', 'result', 'type', 'instance', 'job', 'increase', 'irate']);
  return [...bare.matchAll(/\b([a-zA-Z_:][a-zA-Z0-9_:]*)\b(?!\s*\()/g)].map((m) => m[1]!).filter((name) => !keywords.has(name) && !/^\d/.test(name) && name.includes('_'));
}

const panelsOf = (panels: any[]): any[] => panels.flatMap((panel) => [panel, ...panelsOf(panel.panels ?? [])]);
const dashboardExprs: string[] = panelsOf(dashboard.panels).flatMap((panel) => (panel.targets ?? []).map((target: { expr: string }) => target.expr));
const alertRules: { alert: string; expr: string }[] = alerts.groups.flatMap((group: { rules: { alert: string; expr: string }[] }) => group.rules);

let database: TestDatabase;
let server: ServerProcess;
let scrape: Scrape;
beforeAll(async () => {
  database = await createTestDatabase('sqlite');
  server = await startServerProcess({ args: ['serve', '--port', '0'], env: database.env });
  await fetch(`${server.baseUrl}/healthz`); // one request, so the labelled HTTP series exist
  scrape = await scrapeMetrics(server.baseUrl);
});
afterAll(async () => {
  await server?.stop();
  await database?.drop();
});

/** Whether /metrics serves this series name (a histogram's `_bucket`, `_sum`, `_count` belong to its family). */
function served(name: string): boolean {
  if (name === 'up') return true; // Prometheus's own, per scrape target
  if (scrape.families.has(name)) return true;
  const family = name.replace(/_(bucket|sum|count)$/, '');
  return scrape.families.get(family) === 'histogram' || scrape.samples.some((s) => s.name === name);
}

describe('the operator kit', () => {
  it('the dashboard is an importable Grafana dashboard with the panels an operator needs', () => {
    expect(dashboard.uid).toBe('handinger-webhooks');
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    const titles = panelsOf(dashboard.panels).map((panel) => panel.title as string);
    for (const title of ['Deliveries by result', 'Attempt latency p50 / p95 / p99', 'Due backlog and oldest due age', 'In flight', 'Held notifications and disabled webhooks', 'API request rate by route', 'API latency p95 by route', 'API errors']) {
      expect(titles).toContain(title);
    }
    const ids = panelsOf(dashboard.panels).map((panel) => panel.id);
    expect(new Set(ids).size).toBe(ids.length);
    const text = dashboardExprs.join('\n');
    for (const quantile of ['0.5', '0.95', '0.99']) expect(text).toContain(`histogram_quantile(${quantile}, sum by (le) (rate(handinger_delivery_attempt_duration_seconds_bucket`);
  });

  it('the alert rules cover backlog age, failure ratio, disabled webhooks and readiness', () => {
    expect(alertRules.map((rule) => rule.alert).sort()).toEqual(['HandingerDeliveryBacklogLate', 'HandingerDeliveryFailureRatioHigh', 'HandingerNotReady', 'HandingerWebhooksDisabled']);
    for (const rule of alertRules) {
      expect(typeof rule.expr).toBe('string');
      expect((rule as { labels?: { severity?: string } }).labels?.severity).toMatch(/^(info|warning|critical)$/);
    }
  });

  it('reference only metrics that /metrics serves', () => {
    const referenced = new Set([...dashboardExprs, ...alertRules.map((rule) => rule.expr), dashboard.templating.list[1].definition].flatMap(metricsOf));
    expect(referenced.size).toBeGreaterThan(10);
    for (const name of ['handinger_delivery_attempts_total', 'handinger_delivery_oldest_due_age_seconds', 'handinger_webhooks_disabled', 'handinger_ready']) expect(referenced).toContain(name);
    const missing = [...referenced].filter((name) => !served(name));
    expect(missing).toEqual([]);
  });
});
