import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)

/** uWebSockets.js, loaded once; the npm republish falls back to a JS implementation when its binary does not load. */
export function loadUws(): typeof import('uWebSockets.js') {
  return require('uWebSockets.js') as typeof import('uWebSockets.js')
}

/** Whether the native binary is what got loaded (the fallback is JS over `ws`, and much slower). */
export function uwsFacts(): { uwsNative: boolean; uwsBinary: string | null } {
  const binary = Object.keys(require.cache).find((k) => /uws[^/]*\.node$/.test(k)) ?? null
  return { uwsNative: binary !== null, uwsBinary: binary && binary.split('/').pop()! }
}
