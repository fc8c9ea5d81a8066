/**
 * `npm run package`: builds dist/handinger-webhooks-linux-x64, the whole
 * service as one file that runs with no Node or npm on the machine.
 *
 * 1. esbuild bundles the CLI (apps/server/src/sea/main.ts and every workspace
 *    package, from their TypeScript sources) into one CommonJS file;
 *    and the delivery sender's thread into a second one;
 *    the web console (apps/console/dist/console-assets.json) is carried as built;
 * 2. Node writes a SEA blob from the first, carrying the better-sqlite3 addon
 *    and the sender thread as assets (migrations are code, so they are in the
 *    bundle);
 * 3. postject injects the blob into a copy of this machine's `node`.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type BuildOptions } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const work = join(root, 'dist/sea');
const output = join(root, `dist/handinger-webhooks-${process.platform}-${process.arch}`);
const require = createRequire(join(root, 'apps/server/package.json'));
/** The fuse Node checks to know it carries a SEA blob (see node:sea docs). */
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

async function main(): Promise<void> {
  mkdirSync(work, { recursive: true });
  const bundle = join(work, 'handinger-webhooks.cjs');
  const senderThread = join(work, 'sender-thread.cjs');
  const checkpointThread = join(work, 'checkpoint-thread.cjs');
  const bundleOptions: BuildOptions = {
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    conditions: ['@handinger-webhooks/source'],
    minify: false,
    sourcemap: false,
    legalComments: 'none',
    logLevel: 'warning',
  };
  await build({ ...bundleOptions, entryPoints: [join(root, 'apps/server/src/sea/main.ts')], outfile: bundle });
  // A worker thread cannot load a module from inside the executable: it runs this bundle's source (eval).
  await build({ ...bundleOptions, entryPoints: [join(root, 'apps/delivery/src/sender-thread.ts')], outfile: senderThread });
  await build({ ...bundleOptions, entryPoints: [join(root, 'packages/storage-sqlite/src/checkpoint-thread.ts')], outfile: checkpointThread });

  // The web console, as `npm run build` made it (apps/console): one JSON document of its files.
  const consoleAssets = join(root, 'apps/console/dist/console-assets.json');
  if (!existsSync(consoleAssets)) throw new Error(`${consoleAssets} is missing: run npm run build first`);
  const addon = join(dirname(require.resolve('better-sqlite3/package.json')), 'build/Release/better_sqlite3.node');
  const config = join(work, 'sea-config.json');
  const blob = join(work, 'sea-prep.blob');
  writeFileSync(
    config,
    JSON.stringify(
      {
        main: bundle,
        output: blob,
        disableExperimentalSEAWarning: true,
        useCodeCache: true,
        assets: { 'better_sqlite3.node': addon, 'sender-thread.cjs': senderThread, 'checkpoint-thread.cjs': checkpointThread, 'console-assets.json': consoleAssets },
      },
      null,
      2,
    ),
  );
  execFileSync(process.execPath, ['--experimental-sea-config', config], { stdio: 'inherit' });

  copyFileSync(process.execPath, output);
  chmodSync(output, 0o755);
  const postject = join(dirname(require.resolve('postject/package.json')), 'dist/cli.js');
  execFileSync(process.execPath, [postject, output, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', SEA_FUSE], { stdio: 'inherit' });
  const megabytes = (statSync(output).size / 1024 / 1024).toFixed(1);
  process.stdout.write(`built ${output} (${megabytes} MB)\n`);
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
