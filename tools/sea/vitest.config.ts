import { defineConfig } from 'vitest/config';

/** `npm run test:package`: tests of the built single executable only (it must be built first). */
export default defineConfig({
  resolve: { conditions: ['@handinger-webhooks/source'] },
  ssr: { resolve: { conditions: ['@handinger-webhooks/source'] } },
  test: {
    root: new URL('../..', import.meta.url).pathname,
    include: ['tools/sea/src/**/*.int.test.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
