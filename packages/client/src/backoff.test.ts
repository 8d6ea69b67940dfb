import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { backoffDelay } from './backoff.js'

describe('backoffDelay', () => {
  it('is full jitter: uniform in [0, min(cap, base·2^attempt))', () => {
    expect(backoffDelay(0, {}, () => 0.999)).toBe(249)
    expect(backoffDelay(3, {}, () => 0.5)).toBe(1000)
    expect(backoffDelay(20, {}, () => 0.999)).toBe(9990)
    expect(backoffDelay(5, {}, () => 0)).toBe(0)
    fc.assert(
      fc.property(fc.nat(100), fc.double({ min: 0, max: 0.9999999, noNaN: true }), fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 1, max: 60_000 }), (attempt, r, base, cap) => {
        const d = backoffDelay(attempt, { minDelayMs: base, maxDelayMs: cap }, () => r)
        expect(d).toBeGreaterThanOrEqual(0)
        expect(d).toBeLessThanOrEqual(Math.min(cap, base * 2 ** attempt))
      }),
    )
  })
})
