// Bundles the page (src/web/app.ts + @rt/client + the contract) with esbuild into dist-web/.
import { copyFileSync, mkdirSync, renameSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

export const WEB_DIR = fileURLToPath(new URL('../dist-web/', import.meta.url))
const SRC = fileURLToPath(new URL('./web/', import.meta.url))

/** Writes each file through a temporary name and a rename: a node reading it never sees half a file. */
function writeAtomic(path: string, data: Uint8Array | string): void {
  const tmp = `${path}.${process.pid}.tmp`
  writeFileSync(tmp, data)
  renameSync(tmp, path)
}

export async function buildWeb(): Promise<void> {
  mkdirSync(WEB_DIR, { recursive: true })
  const result = await build({
    entryPoints: [`${SRC}app.ts`],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    // Bundle the packages' TypeScript source: no pre-build of @rt/* needed.
    conditions: ['@rt/source'],
    minify: true,
    sourcemap: 'linked',
    outdir: WEB_DIR,
    write: false,
    logLevel: 'warning',
  })
  for (const file of result.outputFiles) writeAtomic(file.path, file.contents)
  for (const f of ['index.html', 'style.css']) {
    const tmp = `${WEB_DIR}${f}.${process.pid}.tmp`
    copyFileSync(`${SRC}${f}`, tmp)
    renameSync(tmp, `${WEB_DIR}${f}`)
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await buildWeb()
  process.stdout.write(`built ${WEB_DIR}\n`)
}
