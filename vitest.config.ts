import { defineConfig } from 'vitest/config'

// Run every package on its TypeScript source (the `@rt/source` export condition): no pre-build.
const conditions = ['@rt/source', 'module', 'node', 'import', 'default']

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ['@rt/source'] } },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'tests/**/*.test.ts', 'apps/*/src/**/*.test.ts', 'apps/*/test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    typecheck: {
      enabled: true,
      include: ['packages/*/src/**/*.test-d.ts', 'tests/**/*.test-d.ts'],
      tsconfig: './tsconfig.typetests.json',
    },
  },
})
