import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, rmdirSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A real, tiny filesystem (tmpfs) the test can fill up and free again. */
export interface SmallFilesystem {
  path: string;
  file(name: string): string;
  /** Writes a filler file until the filesystem refuses more (ENOSPC). */
  fill(): void;
  /** Deletes the filler: space is back. */
  free(): void;
  /** Unmounts and removes the mount point. */
  remove(): void;
}

/**
 * Mounts a tmpfs of `sizeBytes` on a fresh temp directory, so a test sees
 * what a full disk really does (ENOSPC from the kernel, SQLITE_FULL from
 * SQLite), not a simulation. Needs root (CI runs as root); it fails,
 * rather than skips, when it cannot mount.
 */
export function mountSmallFilesystem(sizeBytes: number): SmallFilesystem {
  const path = mkdtempSync(join(tmpdir(), 'handinger-smallfs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes},mode=0700`, 'tmpfs', path], { stdio: 'pipe' });
  } catch (error) {
    rmdirSync(path);
    throw new Error(`cannot mount a ${sizeBytes}-byte tmpfs for the full-disk test (needs root): ${(error as Error).message}`);
  }
  const filler = join(path, 'filler');
  return {
    path,
    file: (name) => join(path, name),
    fill() {
      const fd = openSync(filler, 'a');
      try {
        for (const size of [1 << 20, 1 << 12, 1]) {
          const chunk = Buffer.alloc(size, 0x78);
          for (;;) {
            try {
              writeSync(fd, chunk);
            } catch (error) {
              if ((error as NodeJS.ErrnoException).code === 'ENOSPC') break;
              throw error;
            }
          }
        }
      } finally {
        closeSync(fd);
      }
    },
    free: () => rmSync(filler, { force: true }),
    remove() {
      execFileSync('umount', ['-l', path], { stdio: 'pipe' });
      rmdirSync(path);
    },
  };
}
