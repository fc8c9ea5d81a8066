/**
 * Builds the console (SPEC §9) into dist/console-assets.json: one document
 * holding index.html and the content-hashed script, style sheet and icon,
 * which the server serves (the same document travels inside the single
 * executable). Everything is bundled here: nothing is fetched at run time.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, 'dist');
rmSync(join(dist, 'public'), { recursive: true, force: true });
mkdirSync(join(dist, 'public/assets'), { recursive: true });

const result = await build({
  entryPoints: [join(here, 'web/main.tsx'), join(here, 'web/style.css')],
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['chrome111', 'firefox115', 'safari16'],
  conditions: ['@handinger-webhooks/source'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  minify: true,
  sourcemap: false,
  legalComments: 'none',
  entryNames: '[name]-[hash]',
  outdir: join(dist, 'public/assets'),
  write: false,
  metafile: true,
  logLevel: 'warning',
  define: { 'process.env.NODE_ENV': '"production"' },
});

const files = {};
const add = (name, contentType, body, immutable) => {
  files[name] = { contentType, immutable, base64: Buffer.from(body).toString('base64') };
  writeFileSync(join(dist, 'public', name), body);
};
const hashed = (name, extension, body) => `assets/${name}-${createHash('sha256').update(body).digest('hex').slice(0, 12)}.${extension}`;

let script;
let style;
for (const output of result.outputFiles) {
  const name = output.path.slice(join(dist, 'public').length + 1);
  if (name.endsWith('.js')) {
    script = name;
    add(name, 'text/javascript; charset=utf-8', output.contents, true);
  } else if (name.endsWith('.css')) {
    style = name;
    add(name, 'text/css; charset=utf-8', output.contents, true);
  }
}
const iconBody = readFileSync(join(here, 'web/icon.svg'));
const icon = hashed('icon', 'svg', iconBody);
add(icon, 'image/svg+xml', iconBody, true);

const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="referrer" content="no-referrer">
<title>Handinger Webhooks</title>
<link rel="icon" href="/console/${icon}" type="image/svg+xml">
<link rel="stylesheet" href="/console/${style}">
<script type="module" src="/console/${script}"></script>
</head>
<body>
<div id="app"><noscript>The console needs JavaScript.</noscript></div>
</body>
</html>
`;
add('index.html', 'text/html; charset=utf-8', html, false);
writeFileSync(join(dist, 'console-assets.json'), JSON.stringify({ files }));
const kib = (Object.values(files).reduce((sum, file) => sum + Buffer.from(file.base64, 'base64').length, 0) / 1024).toFixed(1);
process.stdout.write(`console: ${Object.keys(files).length} files, ${kib} KiB (${script}, ${style})\n`);
