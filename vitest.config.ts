import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // Workspace packages resolve to their TypeScript sources in tests (see each package.json "exports").
    conditions: ['@handinger-webhooks/source'],
  },
  ssr: { resolve: { conditions: ['@handinger-webhooks/source'] } },
  test: {
    include: ['{apps,packages,tools}/*/src/**/*.test.ts'],
    // The single executable's tests run with `npm run test:package`, which builds it first.
    exclude: ['**/node_modules/**', '**/dist/**', 'tools/sea/**'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
