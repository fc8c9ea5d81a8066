import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { get } from 'node:http';
import { basename, join } from 'node:path';
import { REPO_ROOT, SERVER_CLI, type BenchContext } from '../context.js';
import { freePort, poll, spawnProcess } from '../proc.js';
import { makeRow, type ScenarioResult } from '../result.js';
import { serverUnavailable } from '../server.js';

/**
 * A way to start the server: the argv of `serve` for a port and database.
 * To time another build (e.g. the single executable of issue 7), add an
 * entry here or pass `--startup-bin PATH` (PATH is run as `PATH serve …`).
 */
export interface StartupCommand {
  name: string;
  argv(port: number, dbPath: string): string[];
  /** Skipped (with a note) when this returns false, e.g. an artifact that was not built. */
  available?: () => boolean;
}

/** Where `npm run package` (tools/sea) writes the single executable. */
const SEA_PATH = join(REPO_ROOT, 'dist', `handinger-webhooks-${process.platform}-${process.arch}`);

export const STARTUP_COMMANDS: StartupCommand[] = [
  {
    name: 'node apps/server/bin/handinger-webhooks.js serve',
    argv: (port, dbPath) => [process.execPath, SERVER_CLI, 'serve', '--port', String(port), '--db', dbPath],
  },
  {
    name: `single executable dist/${basename(SEA_PATH)} serve`,
    argv: (port, dbPath) => [SEA_PATH, 'serve', '--port', String(port), '--db', dbPath],
    available: () => existsSync(SEA_PATH),
  },
];

/** A bare node:http server answering /healthz: how fast Node itself starts listening on this machine. */
const BARE_NODE: StartupCommand = {
  name: 'bare node:http server (ceiling)',
  argv: (port) => [
    process.execPath,
    '-e',
    `require('node:http').createServer((q, s) => { s.setHeader('content-type', 'application/json'); s.end('{"status":"ok"}'); }).listen(${port}, '127.0.0.1')`,
  ],
};

/** One GET /healthz without keep-alive; resolves with the status, or 0 when nothing listens yet. */
const healthz = (port: number): Promise<number> =>
  new Promise((resolve) => {
    const req = get({ host: '127.0.0.1', port, path: '/healthz', agent: false, timeout: 1_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(0));
    req.on('timeout', () => req.destroy());
  });

/** Spawn → first 200 from /healthz, in ms; then stops the process. */
async function timeStartup(command: StartupCommand, dbPath: string, env: Record<string, string>): Promise<number> {
  const port = await freePort();
  const [file, ...args] = command.argv(port, dbPath);
  const started = performance.now();
  const child = spawnProcess({ command: file!, args, env, stdout: 'ignore', stderr: 'ignore' });
  let exited = false;
  void child.exited.then(() => (exited = true));
  try {
    await poll(
      async () => {
        if (exited) throw new Error(`${command.name} exited before answering /healthz`);
        return (await healthz(port)) === 200 ? true : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 2, what: `${command.name} to answer /healthz` },
    );
    return performance.now() - started;
  } finally {
    await child.stop();
  }
}

/**
 * Startup (for issue 7): process start → `/healthz` answers 200, on an empty
 * database (migrations, bootstrap key) and on an existing one, beside a bare
 * node:http server started the same way.
 */
export async function startupScenario(ctx: BenchContext): Promise<ScenarioResult> {
  const result: ScenarioResult = { id: 'startup', title: 'startup', rows: [], details: {}, notes: [], durationMs: 0 };
  const unavailable = serverUnavailable();
  if (unavailable) return { ...result, skipped: unavailable };
  const started = performance.now();
  const env = { HANDINGER_BOOTSTRAP_KEY: `hwk_bench_${randomBytes(24).toString('base64url')}`, HANDINGER_LOG_LEVEL: 'info' };
  for (const command of STARTUP_COMMANDS.filter((c) => c.available && !c.available())) {
    result.notes.push(`${command.name}: not timed (not built; \`npm run package\` builds it).`);
  }
  const commands = [
    ...STARTUP_COMMANDS.filter((c) => !c.available || c.available()),
    ...ctx.startupBins.map((bin): StartupCommand => ({ name: `${basename(bin)} serve`, argv: (port, dbPath) => [bin, 'serve', '--port', String(port), '--db', dbPath] })),
  ];
  const reps = ctx.sizes.startupReps;
  const bare: number[] = [];
  const samples = new Map<string, { empty: number[]; existing: number[] }>(commands.map((c) => [c.name, { empty: [], existing: [] }]));
  await timeStartup(BARE_NODE, '', env); // warm the file cache, unrecorded
  for (let rep = 0; rep < reps; rep++) {
    bare.push(await timeStartup(BARE_NODE, '', env));
    for (const command of commands) {
      const dbPath = join(ctx.tempDir('startup'), 'startup.db');
      const empty = await timeStartup(command, dbPath, env);
      const existing = await timeStartup(command, dbPath, env);
      samples.get(command.name)!.empty.push(empty);
      samples.get(command.name)!.existing.push(existing);
      ctx.log(`startup rep ${rep + 1}/${reps} ${command.name}: empty database ${empty.toFixed(0)} ms, existing ${existing.toFixed(0)} ms`);
    }
  }
  for (const command of commands) {
    const s = samples.get(command.name)!;
    for (const [label, values] of [
      ['empty database', s.empty],
      ['existing database', s.existing],
    ] as const) {
      result.rows.push(
        makeRow({
          scenario: result.title,
          case: `${command.name}, ${label}: spawn → GET /healthz 200`,
          unit: 'ms',
          higherIsBetter: false,
          product: values,
          ceiling: bare,
        }),
      );
    }
  }
  result.notes.push('Ceiling: a bare `node -e` node:http server answering /healthz, spawned and polled the same way (every 2 ms, no keep-alive). No target yet (issue 7).');
  result.durationMs = performance.now() - started;
  return result;
}
