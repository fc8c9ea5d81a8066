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
    // One throwaway PostgreSQL server for the whole run (SPEC §11); see testPostgresDatabase().
    globalSetup: ['packages/testing/src/vitest-postgres-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
