import { parseArgs, type ParseArgsConfig } from 'node:util';
import { deliver } from './commands/deliver.js';
import { keysCreate, keysList, keysRevoke } from './commands/keys.js';
import { exportLogCommand, importLogCommand } from './commands/log-file.js';
import { rebuildProjections } from './commands/rebuild-projections.js';
import { serve } from './commands/serve.js';
import { expectedErrorMessage } from './expected-errors.js';
import { ConfigError, DEFAULT_DB_PATH, resolveConfig, resolveDbPath, resolveStorage } from './config.js';
import { UsageError } from './usage.js';
import { VERSION } from './version.js';

const HELP = `handinger-webhooks ${VERSION} — outbound webhooks for Handinger workers

Usage:
  handinger-webhooks serve [--port N] [--host H] [--allow-private-network] [--no-delivery] [--db PATH]
      API and delivery in one process (--no-delivery: the API alone, with
      deliver processes doing the sending).
  handinger-webhooks deliver [--allow-private-network] [--metrics-port N] [--host H] [--db PATH]
      The delivery worker alone (--metrics-port: serve /metrics, /healthz and
      /readyz on that port, at --host).
  handinger-webhooks keys create --org ORG --user USER [--name N] [--db PATH]
  handinger-webhooks keys create --service --name N [--db PATH]
      Print a new API key alone on stdout (shown only this once).
  handinger-webhooks keys list [--db PATH]
  handinger-webhooks keys revoke KEY_ID [--db PATH]
  handinger-webhooks rebuild-projections [--verify] [--db PATH]
      Rebuild every read model from the event log (safe while a server runs);
      --verify compares instead and exits 1 on any difference.
  handinger-webhooks export-log [--out FILE] [--db PATH]
      Write the whole event log as NDJSON (secrets stay sealed) to stdout or FILE.
  handinger-webhooks import-log [--in FILE] [--key-file PATH] [--db PATH]
      Load an exported log into an empty database with the source's secret key
      (--key-file, e.g. the source's <db>.key, or HANDINGER_SECRET_KEY).

Options:
  --db PATH|URL              SQLite file, or postgres://user:pass@host:5432/db
                             (env HANDINGER_DB_PATH, default ${DEFAULT_DB_PATH})
  --host H                   listen address (env HANDINGER_HOST, default 127.0.0.1)
  --port N                   listen port (env HANDINGER_PORT, default 3000; 0 picks a free one)
  --metrics-port N           deliver: port of /metrics, /healthz, /readyz (env HANDINGER_METRICS_PORT;
                             default none; serve answers them on its API port)
  --allow-private-network    allow http and private/loopback webhook targets, for local
                             development and tests (env HANDINGER_ALLOW_PRIVATE_NETWORK=1)
  -h, --help                 this help
  -v, --version              the version

Environment:
  HANDINGER_RETRY_SCHEDULE         delays between attempts, e.g. 5s,5m,30m,2h,5h,10h,10h (the default)
  HANDINGER_DELIVERY_TIMEOUT_MS    one attempt's time limit (default 10000)
  HANDINGER_DELIVERY_CONCURRENCY   in-flight attempts in all (default 256)
  HANDINGER_DELIVERY_ORIGIN_CONCURRENCY  in-flight attempts per receiver origin (default 16)
  HANDINGER_LOG_LEVEL              trace, debug, info (default), warn, error, fatal, silent
  HANDINGER_BOOTSTRAP_KEY          the first API key of a new database (org_local/user_local);
                                   without it a random key is printed once to stderr
  HANDINGER_DASHBOARD_URL          base of WorkerTemplate.url (default https://handinger.com)
  HANDINGER_METRICS_TOKEN          when set, GET /metrics requires Authorization: Bearer <it>
  HANDINGER_SECRET_KEY             base64 of 32 bytes sealing webhook secrets at rest (default: the key
                                   file <db>.key, created owner-only with a new database; back it up)
`;

const common = { db: { type: 'string' }, help: { type: 'boolean', short: 'h' } } as const;
const OPTIONS = {
  serve: { ...common, host: { type: 'string' }, port: { type: 'string' }, 'allow-private-network': { type: 'boolean' }, 'no-delivery': { type: 'boolean' } },
  deliver: { ...common, host: { type: 'string' }, 'metrics-port': { type: 'string' }, 'allow-private-network': { type: 'boolean' } },
  keys: { ...common, org: { type: 'string' }, user: { type: 'string' }, name: { type: 'string' }, service: { type: 'boolean' } },
  'rebuild-projections': { ...common, verify: { type: 'boolean' } },
  'export-log': { ...common, out: { type: 'string' } },
  'import-log': { ...common, in: { type: 'string' }, 'key-file': { type: 'string' } },
} satisfies Record<string, ParseArgsConfig['options']>;

/** Every flag any command takes; each command's parser admits only its own. */
interface Flags {
  db?: string;
  help?: boolean;
  host?: string;
  port?: string;
  'allow-private-network'?: boolean;
  'no-delivery'?: boolean;
  'metrics-port'?: string;
  org?: string;
  user?: string;
  name?: string;
  service?: boolean;
  verify?: boolean;
  out?: string;
  in?: string;
  'key-file'?: string;
}

function parse(args: string[], options: NonNullable<ParseArgsConfig['options']>): { values: Flags; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args, options, allowPositionals: true, strict: true });
    return { values: values as Flags, positionals };
  } catch (error) {
    throw new UsageError(`${(error as Error).message.split('\n')[0]} (see --help)`);
  }
}

/** Runs one CLI invocation; resolves with the exit status for one-shot commands, or never settles for `serve`/`deliver`. */
async function run(argv: string[]): Promise<number | 'running'> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(HELP);
    return command === undefined ? 2 : 0;
  }
  if (command === '--version' || command === '-v') {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  if (!(command in OPTIONS)) throw new UsageError(`unknown command "${command}" (see --help)`);
  const { values, positionals } = parse(rest, OPTIONS[command as keyof typeof OPTIONS]);
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const env = process.env;
  switch (command) {
    case 'serve':
      if (positionals.length > 0) throw new UsageError(`serve takes no arguments, got "${positionals[0]}"`);
      await serve(resolveConfig(values, env));
      return 'running';
    case 'deliver':
      if (positionals.length > 0) throw new UsageError(`deliver takes no arguments, got "${positionals[0]}"`);
      await deliver(resolveConfig(values, env));
      return 'running';
    case 'keys': {
      const [action, ...args] = positionals;
      const storage = resolveStorage(values, env);
      if (action === 'create' && args.length === 0) await keysCreate(storage, values, process.stdout);
      else if (action === 'list' && args.length === 0) await keysList(storage, process.stdout);
      else if (action === 'revoke' && args.length <= 1) await keysRevoke(storage, args[0], process.stdout);
      else throw new UsageError('usage: keys create | keys list | keys revoke KEY_ID (see --help)');
      return 0;
    }
    case 'rebuild-projections':
      if (positionals.length > 0) throw new UsageError(`rebuild-projections takes no arguments, got "${positionals[0]}"`);
      return rebuildProjections(resolveDbPath(values, env), values.verify === true);
    case 'export-log':
      if (positionals.length > 0) throw new UsageError(`export-log takes no arguments, got "${positionals[0]}"`);
      return exportLogCommand(resolveDbPath(values, env), values.out, process.stderr);
    case 'import-log':
      if (positionals.length > 0) throw new UsageError(`import-log takes no arguments, got "${positionals[0]}"`);
      return importLogCommand(resolveDbPath(values, env), { in: values.in, keyFile: values['key-file'] }, env, process.stdout);
  }
  return 2;
}

/** The CLI entry point (bin/handinger-webhooks.js and the single executable call it). */
export function main(argv: string[]): void {
  run(argv).then(
    (status) => {
      if (status !== 'running') process.exitCode = status;
    },
    (error: unknown) => {
      const expected = expectedErrorMessage(error);
      if (error instanceof UsageError || error instanceof ConfigError) {
        process.stderr.write(`handinger-webhooks: ${error.message}\n`);
        process.exitCode = error instanceof UsageError ? error.exitCode : 2;
      } else if (expected !== null) {
        process.stderr.write(`handinger-webhooks: ${expected}\n`);
        process.exitCode = 1;
      } else {
        process.stderr.write(`handinger-webhooks: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
        process.exitCode = 1;
      }
    },
  );
}
