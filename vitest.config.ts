import { createRequire } from 'node:module'
import { defineConfig } from 'vitest/config'

// Run every package on its TypeScript source (the `@rt/source` export condition): no pre-build.
const conditions = ['@rt/source', 'module', 'node', 'import', 'default']

// tests/react18 runs @rt/react's hooks against React 18: its own copies, wherever the source imports them from.
const react18 = createRequire(new URL('./tests/react18/package.json', import.meta.url))
const REACT_18 = ['react', 'react/jsx-runtime', 'react/jsx-dev-runtime', 'react-dom', 'react-dom/client', 'react-dom/server', 'react-dom/test-utils']

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ['@rt/source'] } },
  test: {
    testTimeout: 20_000,
    hookTimeout: 30_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'main',
          include: [
            'packages/*/src/**/*.test.ts',
            'packages/*/src/**/*.test.tsx',
            'tests/**/*.test.ts',
            'tests/**/*.test.tsx',
            'apps/*/src/**/*.test.ts',
            'apps/*/test/**/*.test.ts',
          ],
          exclude: ['**/node_modules/**', 'tests/react18/**'],
          typecheck: {
            enabled: true,
            include: ['packages/*/src/**/*.test-d.ts', 'tests/**/*.test-d.ts'],
            tsconfig: './tsconfig.typetests.json',
          },
        },
      },
      {
        extends: true,
        resolve: { alias: REACT_18.map((id) => ({ find: new RegExp(`^${id}$`), replacement: react18.resolve(id) })) },
        test: { name: 'react18', include: ['tests/react18/**/*.test.tsx'] },
      },
    ],
  },
})
