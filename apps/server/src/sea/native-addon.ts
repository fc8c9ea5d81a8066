import { createHash, randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** Where extracted addons live: `$XDG_CACHE_HOME/handinger-webhooks` or `~/.cache/handinger-webhooks`. */
export function cacheRoot(env: Record<string, string | undefined> = process.env): string {
  const base = env.XDG_CACHE_HOME && env.XDG_CACHE_HOME.startsWith('/') ? env.XDG_CACHE_HOME : join(homedir(), '.cache');
  return join(base, 'handinger-webhooks');
}

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

function readIfPresent(path: string): Buffer | null {
  try {
    return readFileSync(path);
  } catch {
    return null;
  }
}

/**
 * Makes `bytes` (the better-sqlite3 addon carried inside the executable)
 * available as a file that `process.dlopen` can load, and returns its path.
 * The file lives in a per-version, per-checksum directory and is verified
 * against the checksum on every start: a damaged or foreign file is replaced,
 * never loaded. It is written to a unique temporary name, flushed, then
 * renamed, so two processes starting together never see a half-written file.
 */
export function materializeAddon(bytes: Uint8Array, version: string, root = cacheRoot()): string {
  const digest = sha256(bytes);
  const dir = join(root, `${version}-${process.platform}-${process.arch}-${digest.slice(0, 16)}`);
  const path = join(dir, 'better_sqlite3.node');
  const existing = readIfPresent(path);
  if (existing && sha256(existing) === digest) return path;

  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const temporary = join(dir, `.better_sqlite3.node.${process.pid}.${randomBytes(6).toString('hex')}`);
  try {
    const fd = openSync(temporary, 'wx', 0o700);
    try {
      writeSync(fd, bytes);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
  return path;
}
