import { createRequire } from 'node:module'
import { describe, expect, it } from 'vitest'
import { isNativeUws, loadUws } from './load-uws.js'
import type { UwsModule } from './uws-types.js'

const require = createRequire(import.meta.url)

describe('loadUws', () => {
  it('loads the native build here', () => {
    expect(isNativeUws(loadUws())).toBe(true)
  })

  it("tells the npm republish's JavaScript fallback from the native build by its shape", () => {
    // What the republish loads when it has no binary for the Node ABI (or with UWS_USE_FALLBACK=1).
    const fallback = require('uWebSockets.js/dist/index.js') as Partial<UwsModule>
    expect(typeof fallback.App).toBe('function')
    expect(isNativeUws(fallback)).toBe(false)
  })
})
