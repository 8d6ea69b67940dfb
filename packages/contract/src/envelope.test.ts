import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decodeEnvelope, decodeEnvelopeMeta, encodeEnvelope, encodeEnvelopeMeta, subjectToken } from './envelope.js'

describe('bus envelope', () => {
  it('round-trips text and binary frames with origin and header', () => {
    fc.assert(
      // Origins are node ids: no newline, no space (a space starts the meta).
      fc.property(fc.stringMatching(/^[^\n ]*$/), fc.stringMatching(/^[^\n]*$/), fc.string(), fc.uint8Array(), (origin, header, text, bytes) => {
        expect(decodeEnvelope(encodeEnvelope(origin, header, text))).toEqual({ origin, header, frame: text })
        const b = decodeEnvelope(encodeEnvelope(origin, header, bytes))!
        expect([b.origin, b.header, [...(b.frame as Uint8Array)]]).toEqual([origin, header, [...bytes]])
      }),
    )
    expect(decodeEnvelope(new Uint8Array([1, 2, 3]))).toBeNull()
    expect(decodeEnvelope(new TextEncoder().encode('tno newline'))).toBeNull()
  })

  it('carries meta after the origin, which a peer without meta support reads as part of the origin', () => {
    const meta = encodeEnvelopeMeta({ s: 1_700_000_000_000, c: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' } })
    for (const frame of ['{"t":"event"}', new Uint8Array([1, 2, 3])]) {
      const env = decodeEnvelope(encodeEnvelope('node-a', '["c","x",null]', frame, meta))!
      expect([env.origin, env.header, env.meta]).toEqual(['node-a', '["c","x",null]', meta])
      expect(decodeEnvelopeMeta(env.meta!)).toEqual({ s: 1_700_000_000_000, c: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' } })
    }
    // The layout an older decoder splits: origin line, header line, frame — header and frame intact.
    const [line, header, frame] = new TextDecoder().decode(encodeEnvelope('node-a', 'k', 'f', meta)).slice(1).split('\n')
    expect([line?.startsWith('node-a '), header, frame]).toEqual([true, 'k', 'f'])
    expect(decodeEnvelope(encodeEnvelope('node-a', 'k', 'f'))).toEqual({ origin: 'node-a', header: 'k', frame: 'f' })
  })

  it('carries a seq between origin and meta; an older peer still reads the origin, and loses only telemetry (property)', () => {
    const meta = fc.option(fc.integer({ min: 0, max: 2 ** 45 }).map((t) => encodeEnvelopeMeta({ s: t })), { nil: undefined })
    fc.assert(
      fc.property(fc.stringMatching(/^[^\n ]*$/), fc.string(), fc.option(fc.maxSafeNat(), { nil: undefined }), meta, (origin, frame, seq, m) => {
        const env = decodeEnvelope(encodeEnvelope(origin, 'k', frame, m, seq))!
        expect(env).toEqual({ origin, header: 'k', frame, ...(seq === undefined ? {} : { seq }), ...(m === undefined ? {} : { meta: m }) })
        // What a decoder that predates seq makes of the origin line: origin, then a meta it cannot parse.
        const line = new TextDecoder().decode(encodeEnvelope(origin, 'k', frame, m, seq)).slice(1).split('\n')[0]!
        const sp = line.indexOf(' ')
        expect(sp < 0 ? line : line.slice(0, sp)).toBe(origin)
        if (seq !== undefined) expect(decodeEnvelopeMeta(line.slice(sp + 1))).toBeUndefined()
      }),
    )
  })

  it('takes a seq only as a base-36 safe integer; anything else after the origin is no seq and breaks nothing (property)', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[^\n]*$/), (rest) => {
        const env = decodeEnvelope(new TextEncoder().encode(`tnode-a ${rest}\nk\nf`))!
        expect([env.origin, env.header, env.frame]).toEqual(['node-a', 'k', 'f'])
        if (env.seq !== undefined) {
          expect(Number.isSafeInteger(env.seq) && env.seq >= 0).toBe(true)
          expect(rest.split(' ')[0]).toBe(env.seq.toString(36).padStart(rest.split(' ')[0]!.length, '0'))
        }
      }),
    )
    expect(decodeEnvelope(new TextEncoder().encode('tnode-a zzzzzzzzzzz\nk\nf'))!.seq).toBeUndefined() // past 2^53
    expect(decodeEnvelope(new TextEncoder().encode('tnode-a 1A {"s":1}\nk\nf'))).toEqual({ origin: 'node-a', header: 'k', frame: 'f', meta: '{"s":1}' })
    expect(decodeEnvelope(new TextEncoder().encode('tnode-a 1z {"s":1}\nk\nf'))).toEqual({ origin: 'node-a', header: 'k', frame: 'f', seq: 71, meta: '{"s":1}' })
  })

  it('parses meta defensively: a bad one costs its telemetry only (property)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json()), (raw) => {
        const m = decodeEnvelopeMeta(raw)
        if (m !== undefined) {
          expect(typeof m.s).toBe('number')
          if (m.c !== undefined) expect(Object.values(m.c).every((v) => typeof v === 'string')).toBe(true)
        }
      }),
    )
    expect(decodeEnvelopeMeta('{"s":1,"c":{"traceparent":7}}')).toEqual({ s: 1 })
    expect(decodeEnvelopeMeta('{"c":{}}')).toBeUndefined()
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

  it('encodes every string, lone surrogates included, without throwing; well-formed ones as before (property)', () => {
    // Today's encoding of well-formed strings: subjects already on the bus keep their names.
    const before = (name: string) =>
      name !== '' && /^[A-Za-z0-9_-]+$/.test(name) ? name : `~${encodeURIComponent(name).replace(/[.*~!'()]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}`
    // The inverse proves the encoding injective.
    const decode = (token: string) => {
      if (!token.startsWith('~')) return token
      return token
        .slice(1)
        .split(/(%u[0-9A-F]{4})/)
        .map((part) => (part.startsWith('%u') ? String.fromCharCode(parseInt(part.slice(2), 16)) : decodeURIComponent(part)))
        .join('')
    }
    const utf16 = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)) })
    fc.assert(
      fc.property(utf16, (s) => {
        const t = subjectToken(s)
        expect(t).toMatch(/^[A-Za-z0-9_%~-]+$/)
        expect(decode(t)).toBe(s)
      }),
      { numRuns: 2_000 },
    )
    fc.assert(fc.property(fc.string({ unit: 'grapheme' }), (s) => {
        expect(subjectToken(s)).toBe(before(s))
      }),
    )
    expect(subjectToken('r\ud800')).toBe('~r%uD800')
    expect(subjectToken('\udc00\ud83d\ude00\ud800')).toBe('~%uDC00%F0%9F%98%80%uD800')
    expect(subjectToken('r\ud800')).not.toBe(subjectToken('r\ufffd'))
  })
})
