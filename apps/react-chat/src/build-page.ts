// Bundles the page (src/web: React, @rt/react, @rt/client and the contract) with Vite into dist/.
import { fileURLToPath } from 'node:url'
import react from '@vitejs/plugin-react'
import { build } from 'vite'

export const PAGE_DIR = fileURLToPath(new URL('../dist/', import.meta.url))
const SRC = fileURLToPath(new URL('./web/', import.meta.url))

export interface BuildPageOptions {
  /** React's development build, where Strict Mode mounts every component twice. @default false */
  development?: boolean
  /** @default dist/ of this app */
  outDir?: string
}

/** Builds the page into dist/ with Vite's JS API. */
export async function buildPage(options: BuildPageOptions = {}): Promise<void> {
  const mode = options.development ? 'development' : 'production'
  await build({
    mode,
    define: { 'process.env.NODE_ENV': JSON.stringify(mode) },
    root: SRC,
    base: './',
    configFile: false,
    logLevel: 'warn',
    plugins: [react()],
    // Bundle the packages' TypeScript source: no pre-build of @rt/* needed.
    resolve: { conditions: ['@rt/source', 'browser', 'module', 'import', 'default'] },
    build: { outDir: options.outDir ?? PAGE_DIR, emptyOutDir: true, target: 'es2022', sourcemap: true, minify: !options.development, chunkSizeWarningLimit: 2_000 },
  })
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await buildPage()
  process.stdout.write(`built ${PAGE_DIR}\n`)
}
