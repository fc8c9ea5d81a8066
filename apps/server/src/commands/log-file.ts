import { createReadStream, createWriteStream, readFileSync } from 'node:fs';
import { finished } from 'node:stream/promises';
import { exportLog, importLog } from '@handinger-webhooks/commands';
import { SECRET_KEY_ENV } from '@handinger-webhooks/secrets';
import { UsageError } from '../usage.js';

/** `export-log [--out FILE]`: the whole log as NDJSON on stdout or into FILE (created owner-only: it holds sealed secrets). */
export async function exportLogCommand(db: string, out: string | undefined, stderr: NodeJS.WritableStream): Promise<number> {
  const target = out === undefined ? process.stdout : createWriteStream(out, { mode: 0o600, flags: 'w' });
  const count = await exportLog(db, target);
  if (target !== process.stdout) {
    target.end();
    await finished(target);
  }
  stderr.write(`exported ${count} events${out ? ` to ${out}` : ''}\n`);
  return 0;
}

/** `import-log [--in FILE] [--key-file PATH]`: loads an export into an empty database with the source's key. */
export async function importLogCommand(
  db: string,
  options: { in?: string | undefined; keyFile?: string | undefined },
  env: Record<string, string | undefined>,
  out: NodeJS.WritableStream,
): Promise<number> {
  let key: { text: string; source: string };
  if (options.keyFile !== undefined) {
    key = { text: readKeyFile(options.keyFile), source: `the key file ${options.keyFile}` };
  } else if (env[SECRET_KEY_ENV]) {
    key = { text: env[SECRET_KEY_ENV]!, source: SECRET_KEY_ENV };
  } else {
    throw new UsageError(`import-log needs the source database's secret key: --key-file PATH (e.g. its <database path>.key) or ${SECRET_KEY_ENV}`);
  }
  const input = options.in === undefined ? process.stdin : createReadStream(options.in);
  const count = await importLog({ db, input, key });
  out.write(`imported ${count} events and built the read models\n`);
  return 0;
}

function readKeyFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read the key file ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, 1);
  }
}
