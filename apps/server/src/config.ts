import { DEFAULT_DISABLE_AFTER_MS, DEFAULT_RETRY_SCHEDULE_MS, parseDuration, parseRetrySchedule } from '@handinger-webhooks/domain';
import { parseFrameAncestors, parsePublicUrl } from './console-options.js';

/** Everything `serve` and `deliver` are configured with: flags first, then environment, then defaults (SPEC §7). */
/** Where the data is and how its secrets are opened: what every command that touches the database needs. */
export interface StorageConfig {
  /** A SQLite file path, or a `postgres://` / `postgresql://` URL (SPEC §11). */
  db: string;
  /** `HANDINGER_SECRET_KEY`, when set (else the database's key file is used). */
  secretKey: string | undefined;
}

export interface ServiceConfig extends StorageConfig {
  host: string;
  port: number;
  allowPrivateNetwork: boolean;
  /** Whether `serve` runs a delivery loop beside the API (`--no-delivery`: not). */
  delivery: boolean;
  retryScheduleMs: readonly number[];
  /** `HANDINGER_DISABLE_AFTER` (SPEC §8.5): 0 turns the automatic disable off. */
  disableAfterMs: number;
  deliveryTimeoutMs: number;
  deliveryConcurrency: number;
  deliveryOriginConcurrency: number;
  logLevel: LogLevel;
  bootstrapKey: string | undefined;
  dashboardUrl: string;
  /** `HANDINGER_METRICS_TOKEN`: `/metrics` requires `Authorization: Bearer <it>` when set (SPEC §10). */
  metricsToken: string | undefined;
  /** `deliver --metrics-port N` / `HANDINGER_METRICS_PORT`: where a delivery-only process serves /metrics, /healthz, /readyz (`null`: nowhere). */
  metricsPort: number | null;
  /** Whether metrics are recorded on the hot paths. Off only for the bench's baseline (an internal switch, not documented). */
  recordMetrics: boolean;
  /** The web console (SPEC §9): portal links' base URL and the origins that may frame portal views. */
  publicUrl: string | undefined;
  portalFrameAncestors: string[];
}

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const DEFAULT_DB_PATH = './data/handinger.db';

/** A configuration value that cannot be used; the CLI prints it and exits with status 2. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export interface ConfigFlags {
  db?: string | undefined;
  host?: string | undefined;
  port?: string | undefined;
  'allow-private-network'?: boolean | undefined;
  'no-delivery'?: boolean | undefined;
  'metrics-port'?: string | undefined;
}

type Env = Record<string, string | undefined>;

function integer(name: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got "${text}"`);
  }
  return value;
}

const truthy = (text: string | undefined): boolean => text !== undefined && ['1', 'true', 'yes', 'on'].includes(text.toLowerCase());

function metricsPort(text: string | undefined): number | null {
  if (text === undefined || text === '') return null;
  return integer('--metrics-port / HANDINGER_METRICS_PORT', text, 0, 65_535);
}

/** The database alone, for commands that need nothing else (`rebuild-projections`). */
export const resolveDbPath = (flags: { db?: string | undefined }, env: Env): string =>
  flags.db ?? env.HANDINGER_DB_PATH ?? DEFAULT_DB_PATH;

/** The database and its secret key, for commands that open the application (`keys`). */
export const resolveStorage = (flags: { db?: string | undefined }, env: Env): StorageConfig => ({
  db: resolveDbPath(flags, env),
  secretKey: env.HANDINGER_SECRET_KEY || undefined,
});

/** Resolves and validates the whole configuration; throws ConfigError naming the bad setting. */
export function resolveConfig(flags: ConfigFlags, env: Env): ServiceConfig {
  const logLevel = (env.HANDINGER_LOG_LEVEL ?? 'info').toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new ConfigError(`HANDINGER_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  }
  let retryScheduleMs: readonly number[] = DEFAULT_RETRY_SCHEDULE_MS;
  if (env.HANDINGER_RETRY_SCHEDULE !== undefined) {
    try {
      retryScheduleMs = parseRetrySchedule(env.HANDINGER_RETRY_SCHEDULE);
    } catch (error) {
      throw new ConfigError(`HANDINGER_RETRY_SCHEDULE: ${(error as Error).message}`);
    }
  }
  let disableAfterMs = DEFAULT_DISABLE_AFTER_MS;
  if (env.HANDINGER_DISABLE_AFTER !== undefined) {
    try {
      disableAfterMs = parseDuration(env.HANDINGER_DISABLE_AFTER);
    } catch (error) {
      throw new ConfigError(`HANDINGER_DISABLE_AFTER: ${(error as Error).message}`);
    }
  }
  const bootstrapKey = env.HANDINGER_BOOTSTRAP_KEY || undefined;
  if (bootstrapKey !== undefined && (bootstrapKey.length < 32 || /\s/.test(bootstrapKey))) {
    throw new ConfigError('HANDINGER_BOOTSTRAP_KEY must be at least 32 characters without spaces (use a random key)');
  }
  return {
    ...resolveStorage(flags, env),
    host: flags.host ?? env.HANDINGER_HOST ?? '127.0.0.1',
    port: integer('--port / HANDINGER_PORT', flags.port ?? env.HANDINGER_PORT ?? '3000', 0, 65_535),
    allowPrivateNetwork: flags['allow-private-network'] === true || truthy(env.HANDINGER_ALLOW_PRIVATE_NETWORK),
    delivery: flags['no-delivery'] !== true,
    retryScheduleMs,
    disableAfterMs,
    deliveryTimeoutMs: integer('HANDINGER_DELIVERY_TIMEOUT_MS', env.HANDINGER_DELIVERY_TIMEOUT_MS ?? '10000', 1, 600_000),
    deliveryConcurrency: integer('HANDINGER_DELIVERY_CONCURRENCY', env.HANDINGER_DELIVERY_CONCURRENCY ?? '256', 1, 10_000),
    deliveryOriginConcurrency: integer(
      'HANDINGER_DELIVERY_ORIGIN_CONCURRENCY',
      env.HANDINGER_DELIVERY_ORIGIN_CONCURRENCY ?? '16',
      1,
      10_000,
    ),
    logLevel: logLevel as LogLevel,
    bootstrapKey,
    dashboardUrl: (env.HANDINGER_DASHBOARD_URL ?? 'https://handinger.com').replace(/\/+$/, ''),
    metricsToken: env.HANDINGER_METRICS_TOKEN || undefined,
    metricsPort: metricsPort(flags['metrics-port'] ?? env.HANDINGER_METRICS_PORT),
    recordMetrics: env.HANDINGER_INTERNAL_METRICS !== 'off',
    publicUrl: parsePublicUrl(env.HANDINGER_PUBLIC_URL),
    portalFrameAncestors: parseFrameAncestors(env.HANDINGER_PORTAL_FRAME_ANCESTORS),
  };
}
