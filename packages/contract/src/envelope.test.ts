import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decodeEnvelope, encodeEnvelope, subjectToken } from './envelope.js'

describe('bus envelope', () => {
  it('round-trips text and binary frames with origin and header', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[^\n]*$/), fc.stringMatching(/^[^\n]*$/), fc.string(), fc.uint8Array(), (origin, header, text, bytes) => {
        expect(decodeEnvelope(encodeEnvelope(origin, header, text))).toEqual({ origin, header, frame: text })
        const b = decodeEnvelope(encodeEnvelope(origin, header, bytes))!
        expect([b.origin, b.header, [...(b.frame as Uint8Array)]]).toEqual([origin, header, [...bytes]])
      }),
    )
    expect(decodeEnvelope(new Uint8Array([1, 2, 3]))).toBeNull()
    expect(decodeEnvelope(new TextEncoder().encode('tno newline'))).toBeNull()
  })

  it('makes subject tokens that are NATS-safe and never collide', () => {
    expect(subjectToken('room-42_a')).toBe('room-42_a')
    fc.assert(
      fc.property(fc.string(), fc.string(), (a, b) => {
        const ta = subjectToken(a)
        expect(ta).toMatch(/^[^\s.*>]+$/)
        if (a !== b) expect(ta).not.toBe(subjectToken(b))
      }),
    )
    expect(subjectToken('a.b')).not.toBe(subjectToken('a%2Eb'))
  })
})
