import { ATTEMPT_RESULTS, NOTIFICATION_TYPES, type AttemptResultLabel, type DeliveryObserver, type NotificationType, type ObservedAttempt } from '@handinger-webhooks/contracts';
import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { HotCounter, HotHistogram, type CounterChild, type HistogramChild } from './hot-metrics.js';

/** Attempt durations: from a receiver on the same network to the default 10 s timeout (and a configured longer one). */
const ATTEMPT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** API latencies: a read is well under a millisecond of handler time, a write waits for its commit. */
const HTTP_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
/** A gauge read from the database is at most this old (one read per scrape, shared by the gauges it feeds). */
const DATABASE_GAUGE_MAX_AGE_MS = 1_000;
/** A database read for a gauge that takes longer is given up (the scrape answers with the last value). */
const DATABASE_GAUGE_TIMEOUT_MS = 2_000;

/** HTTP methods as labels: the ones an API answers; anything else (Node's parser knows ~30) is `OTHER`. */
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** Where the gauges that are true for the whole database, or for this process, read from. Each is optional. */
export interface GaugeSources {
  /** Attempts this process has claimed and not yet recorded. */
  inFlight?: () => number;
  /** Due attempts not in flight, and the oldest one's age: the whole queue, every process. */
  backlog?: () => Promise<{ due: number; oldestDueAgeSeconds: number }>;
  /** Disabled webhooks and held notifications: the whole database. */
  webhookHealth?: () => Promise<{ disabled: number; held: number }>;
  /** This process's readiness (`/readyz`), as `handinger_ready` 1 or 0, for alerting without probing. */
  ready?: () => Promise<boolean>;
}

export interface MetricsOptions {
  /** The process metrics of prom-client (CPU, memory, event-loop lag, GC). Default true. */
  processMetrics?: boolean;
}

/**
 * One read shared by every caller for `maxAgeMs`, never two at once, given
 * up after `timeoutMs` (a database that does not answer must not hang a
 * scrape); a failed read leaves the previous value (`undefined` at first).
 */
function cachedRead<T>(read: () => Promise<T>, maxAgeMs: number, timeoutMs: number): () => Promise<T | undefined> {
  let value: T | undefined;
  let readAt = Number.NEGATIVE_INFINITY;
  let pending: Promise<T | undefined> | undefined;
  return () => {
    if (performance.now() - readAt < maxAgeMs) return Promise.resolve(value);
    pending ??= new Promise<T | undefined>((resolve) => {
      const timer = setTimeout(() => resolve(value), timeoutMs);
      read().then(
        (fresh) => {
          value = fresh;
          readAt = performance.now();
        },
        () => undefined,
      ).finally(() => {
        clearTimeout(timer);
        resolve(value);
      });
    }).finally(() => (pending = undefined));
    return pending;
  };
}

/**
 * The metrics of SPEC §10 in one registry. Counters and histograms count
 * this process's work (Prometheus sums processes); the queue and
 * read-model gauges are read from the database at scrape time, so they are
 * true for every process sharing it. Labels are bounded: attempt results,
 * notification types, HTTP methods, route templates and statuses, never an
 * id, URL or secret.
 *
 * The hot-path recorders (`delivery.attemptEnded`, `observeHttp`) touch
 * label children resolved once (`hot-metrics.ts`): no label hashing, no
 * allocation per call, a few Map lookups at most.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly contentType = this.registry.contentType;
  /** Give it to the delivery app (`DeliveryOptions.observer`). */
  readonly delivery: DeliveryObserver;

  private sources: GaugeSources = {};
  private readonly httpRequests: HotCounter;
  private readonly httpDuration: HotHistogram;
  /** Per method, per route: the duration child, and the count child per status. */
  private readonly httpChildren = new Map<string, Map<string, { duration: HistogramChild; counts: Map<number, CounterChild> }>>();

  constructor(options: MetricsOptions = {}) {
    const registers = [this.registry];
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });

    // Every result and type is a series from the start (at 0): a rate over a series that appears later misses its first increase.
    const attempts = new HotCounter(this.registry, 'handinger_delivery_attempts_total', 'Delivery attempts whose outcome is known, by result', ['result']);
    const attemptsBy = Object.fromEntries(ATTEMPT_RESULTS.map((result) => [result, attempts.child(result)])) as Record<AttemptResultLabel, CounterChild>;
    const attemptDuration = new HotHistogram(this.registry, 'handinger_delivery_attempt_duration_seconds', 'Wall-clock time of one delivery attempt, connect to response', [], ATTEMPT_BUCKETS).child();
    const notifications = new HotCounter(this.registry, 'handinger_notifications_total', 'Notifications sent for the first time, by type', ['type']);
    const notificationsBy = Object.fromEntries(NOTIFICATION_TYPES.map((type) => [type, notifications.child(type)])) as Record<NotificationType, CounterChild>;
    this.delivery = {
      attemptEnded: ({ result, durationMs, attempt, type }: ObservedAttempt) => {
        attemptsBy[result].inc();
        attemptDuration.observe(durationMs / 1000);
        if (attempt === 1) notificationsBy[type]?.inc();
      },
    };

    const backlog = cachedRead(() => this.sources.backlog?.() ?? Promise.resolve(undefined), DATABASE_GAUGE_MAX_AGE_MS, DATABASE_GAUGE_TIMEOUT_MS);
    const health = cachedRead(() => this.sources.webhookHealth?.() ?? Promise.resolve(undefined), DATABASE_GAUGE_MAX_AGE_MS, DATABASE_GAUGE_TIMEOUT_MS);
    /** A gauge set at scrape time from `read` (left as it was when `read` has nothing). */
    const gauge = (name: string, help: string, read: () => Promise<number | undefined> | number | undefined) =>
      new Gauge({
        name,
        help,
        registers,
        async collect() {
          const value = await read();
          if (value !== undefined) this.set(value);
        },
      });
    gauge('handinger_delivery_due', 'Delivery attempts due now and not in flight, in the whole database', async () => (await backlog())?.due);
    gauge('handinger_delivery_oldest_due_age_seconds', 'How long the oldest due attempt not in flight has been due (0 when none), in the whole database', async () => (await backlog())?.oldestDueAgeSeconds);
    gauge('handinger_delivery_in_flight', 'Delivery attempts this process has claimed and not yet recorded', () => this.sources.inFlight?.() ?? 0);
    gauge('handinger_notifications_held', 'Notifications held for disabled webhooks, in the whole database', async () => (await health())?.held);
    gauge('handinger_webhooks_disabled', 'Webhooks disabled (by hand, or because they kept failing), in the whole database', async () => (await health())?.disabled);
    gauge(
      'handinger_ready',
      'Whether this process is ready (1) or not (0), as GET /readyz answers: the database answers and the delivery loop, if any, runs',
      async () => {
        const ready = this.sources.ready;
        return ready === undefined ? undefined : (await ready().catch(() => false)) ? 1 : 0;
      },
    );

    this.httpRequests = new HotCounter(this.registry, 'handinger_http_requests_total', 'HTTP requests answered, by method, route template and status', ['method', 'route', 'status']);
    this.httpDuration = new HotHistogram(this.registry, 'handinger_http_request_duration_seconds', 'Time to answer an HTTP request, by method and route template', ['method', 'route'], HTTP_BUCKETS);
  }

  /** Where the gauges read from (set once the application and its delivery loop exist). */
  setSources(sources: GaugeSources): void {
    this.sources = sources;
  }

  /** One answered request; `route` must be a template or a fixed label (see `operatorRouteLabel`), never a raw path. */
  observeHttp(method: string | undefined, route: string, status: number, seconds: number): void {
    const m = method !== undefined && METHODS.has(method) ? method : 'OTHER';
    let byRoute = this.httpChildren.get(m);
    if (byRoute === undefined) this.httpChildren.set(m, (byRoute = new Map()));
    let children = byRoute.get(route);
    if (children === undefined) byRoute.set(route, (children = { duration: this.httpDuration.child(m, route), counts: new Map() }));
    let count = children.counts.get(status);
    if (count === undefined) children.counts.set(status, (count = this.httpRequests.child(m, route, String(status))));
    count.inc();
    children.duration.observe(seconds);
  }

  /** The Prometheus text exposition of every metric. */
  render(): Promise<string> {
    return this.registry.metrics();
  }
}
