#!/usr/bin/env node
// The `handinger-webhooks` CLI. The code lives in dist/ (`npm run build` at the repo root).
import('../dist/cli.js').then(({ main }) => main(process.argv.slice(2)));
