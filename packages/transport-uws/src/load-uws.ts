import { createRequire } from 'node:module'
import type { UwsModule } from './uws-types.js'

const INSTALL = 'pnpm add uWebSockets.js@npm:@trufflesuite/uws-js-unofficial@20.30.0-unofficial.0'

/**
 * True when `mod` is the native build. The npm republish falls back to a JavaScript
 * implementation when it has no binary for this Node ABI (or with UWS_USE_FALLBACK=1); that
 * fallback lacks the compressor constants, and with them pub/sub and the upgrade hook.
 */
export function isNativeUws(mod: Partial<UwsModule>): boolean {
  return typeof mod.SHARED_COMPRESSOR === 'number' && typeof mod.App === 'function' && typeof mod.us_listen_socket_close === 'function'
}

/** Loads uWebSockets.js (a CommonJS peer dependency), refusing its JavaScript fallback. */
export function loadUws(): UwsModule {
  let mod: Partial<UwsModule>
  try {
    mod = createRequire(import.meta.url)('uWebSockets.js') as Partial<UwsModule>
  } catch (cause) {
    throw new Error(`@rt/transport-uws: cannot load the uWebSockets.js peer dependency. Install it: ${INSTALL}`, { cause })
  }
  if (!isNativeUws(mod)) {
    const where = `Node.js ${process.version}, ABI ${process.versions.modules}, ${process.platform}-${process.arch}`
    throw new Error(
      `@rt/transport-uws: uWebSockets.js loaded its JavaScript fallback instead of a native binary (${where}). ` +
        'The fallback has no pub/sub and no upgrade hook, so it cannot run @rt. ' +
        'Use a Node.js version the package ships a binary for (the npm republish: Node 16, 18 or 20), unset UWS_USE_FALLBACK, or use @rt/transport-ws.',
    )
  }
  return mod as UwsModule
}
