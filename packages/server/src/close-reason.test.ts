import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { closeReason } from './close-reason.js'

describe('closeReason', () => {
  it('cuts any string to at most 123 bytes of well-formed UTF-8, keeping what fits (property)', () => {
    const utf16 = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 300 })
    fc.assert(
      fc.property(fc.oneof(utf16, fc.string({ unit: 'grapheme', maxLength: 200 })), (s) => {
        const r = closeReason(s)
        const bytes = new TextEncoder().encode(r)
        expect(bytes.byteLength).toBeLessThanOrEqual(123)
        expect(new TextDecoder().decode(bytes)).toBe(r) // no lone surrogate left
        if (new TextEncoder().encode(s).byteLength <= 123 && !/[\ud800-\udfff]/.test(s)) expect(r).toBe(s)
      }),
    )
    expect(closeReason('é'.repeat(100))).toBe('é'.repeat(61))
  })
})
