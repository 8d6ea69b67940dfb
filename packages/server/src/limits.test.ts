import { describe, expect, it } from 'vitest'
import { DEFAULT_LIMITS, resolveLimits } from './limits.js'

describe('resolveLimits', () => {
  it('fills in the defaults, takes Infinity where it turns a bound off, and refuses it for timers and frame sizes', () => {
    expect(resolveLimits(undefined)).toEqual(DEFAULT_LIMITS)
    const off = resolveLimits({ maxConnections: Infinity, maxConnectionsPerIp: Infinity, byteRatePerSecond: Infinity, maxHandshakes: Infinity })
    expect([off.maxConnections, off.byteRatePerSecond, off.maxHandshakeBytes]).toEqual([Infinity, Infinity, 64 << 10])
    for (const k of ['handshakeTimeoutMs', 'heartbeatIntervalMs', 'heartbeatTimeoutMs', 'closeTimeoutMs', 'maxFrameBytes', 'maxBufferedBytes', 'maxRecovery'] as const) {
      expect(() => resolveLimits({ [k]: Infinity })).toThrow(`limits.${k} must be finite`)
    }
    expect(() => resolveLimits({ maxConnectionsPerIp: 0 })).toThrow('must be a positive number')
    expect(() => resolveLimits({ byteBurst: Number.NaN })).toThrow('must be a positive number')
  })
})
