// Module hooks for register.mjs: `.js` specifiers that name `.ts` files, and TypeScript → JS.
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { transform } from 'esbuild'

export async function resolve(specifier, context, next) {
  try {
    return await next(specifier, context)
  } catch (e) {
    // Sources import `./x.js` for `./x.ts` (NodeNext style).
    if (e?.code === 'ERR_MODULE_NOT_FOUND' && /^\.{1,2}\/.*\.js$/.test(specifier)) {
      return next(specifier.replace(/\.js$/, '.ts'), context)
    }
    throw e
  }
}

export async function load(url, context, next) {
  if (!/\.[cm]?ts$/.test(new URL(url).pathname)) return next(url, context)
  const file = fileURLToPath(url)
  const { code } = await transform(await readFile(file, 'utf8'), {
    loader: 'ts',
    format: 'esm',
    target: `node${process.versions.node}`,
    sourcefile: file,
  })
  return { format: 'module', source: code, shortCircuit: true }
}
