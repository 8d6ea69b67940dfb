import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { jsonEncoder } from './encoder.js'
import { ContractViolation, RtError, toRtError } from './errors.js'
import { parseClientFrame, parseServerFrame } from './wire.js'
import { validate } from './schema.js'
import { MAX_KEY_DEPTH, stableKey } from './stable-key.js'

describe('frame parsing', () => {
  it('accepts well-formed client frames and rejects everything else', () => {
    expect(parseClientFrame({ t: 'hello', v: 1, role: 'user', auth: {} })).not.toBeNull()
    expect(parseClientFrame({ t: 'call', id: 1, p: 'ping', d: {} })).not.toBeNull()
    expect(parseClientFrame({ t: 'sub', id: 2, n: 'news' })).not.toBeNull()
    expect(parseClientFrame({ t: 'unsub', n: 'news', k: '' })).not.toBeNull()
    for (const bad of [null, 1, 'x', [], {}, { t: 'call', id: -1, p: 'x' }, { t: 'call', id: 1.5, p: 'x' }, { t: 'call', id: 1, p: '' }, { t: 'hello', v: '1', role: 'u' }, { t: 'nope' }]) {
      expect(parseClientFrame(bad)).toBeNull()
    }
    expect(parseServerFrame({ t: 'welcome', v: 1, conn: 'a', node: 'b', hb: 10 })).not.toBeNull()
    expect(parseServerFrame({ t: 'welcome', v: 1 })).toBeNull()
  })

  it('never throws on arbitrary input (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        parseClientFrame(v)
        parseServerFrame(v)
      }),
    )
    fc.assert(
      fc.property(fc.string(), (s) => {
        let decoded: unknown
        try {
          decoded = jsonEncoder.decode(s)
        } catch {
          return
        }
        parseClientFrame(decoded)
      }),
    )
  })
})

describe('stableKey', () => {
  it('names a params value independently of key order', () => {
    expect(stableKey({ b: 1, a: { d: 2, c: [3, { f: 1, e: 0 }] } })).toBe(stableKey({ a: { c: [3, { e: 0, f: 1 }], d: 2 }, b: 1 }))
    expect(stableKey(undefined)).toBe('')
    expect(stableKey(JSON.parse('{"b":2,"__proto__":{"a":1}}'))).toBe('{"__proto__":{"a":1},"b":2}')
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (o) => {
        const shuffled = Object.fromEntries(Object.entries(o).reverse())
        expect(stableKey(shuffled)).toBe(stableKey(o))
        expect(JSON.parse(stableKey(o))).toEqual(JSON.parse(JSON.stringify(o)))
      }),
    )
  })

  it('refuses values nested deeper than MAX_KEY_DEPTH with BAD_REQUEST, never a stack overflow (property)', () => {
    const nest = (depth: number, leaf: unknown, asObject: boolean): unknown => {
      let v = leaf
      for (let i = 0; i < depth; i++) v = asObject ? { k: v } : [v]
      return v
    }
    expect(() => stableKey(nest(100_000, 1, false))).toThrow(expect.objectContaining({ name: 'RtError', code: 'BAD_REQUEST' }))
    expect(stableKey(nest(MAX_KEY_DEPTH, 1, true))).toBe(`${'{"k":'.repeat(MAX_KEY_DEPTH)}1${'}'.repeat(MAX_KEY_DEPTH)}`)
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 5_000 }), fc.boolean(), fc.jsonValue({ maxDepth: 3 }), (depth, asObject, leaf) => {
        const v = nest(depth, leaf, asObject)
        let key: string | RtError
        try {
          key = stableKey(v)
        } catch (e) {
          key = e as RtError
        }
        if (depth + 4 <= MAX_KEY_DEPTH) expect(typeof key).toBe('string')
        if (depth > MAX_KEY_DEPTH) expect(typeof key).not.toBe('string')
        if (typeof key === 'string') expect(JSON.parse(key)).toEqual(JSON.parse(JSON.stringify(v)))
        else expect([key instanceof RtError, key.code]).toEqual([true, 'BAD_REQUEST'])
      }),
      { numRuns: 300 },
    )
  })
})

describe('errors and validation', () => {
  it('normalises unknown throws to INTERNAL, keeping the cause', () => {
    const cause = new Error('db down')
    const e = toRtError(cause)
    expect([e.code, e.message, e.cause]).toEqual(['INTERNAL', 'Internal server error', cause])
    const rt = new RtError('FORBIDDEN', 'no', { x: 1 })
    expect(toRtError(rt)).toBe(rt)
  })

  it("makes a ContractViolation (the server's own bug) INTERNAL for the caller, keeping it as the cause", () => {
    const bug = new ContractViolation('NOT_FOUND', 'Event "mesage" is not in the vocabulary')
    expect(bug).toBeInstanceOf(RtError)
    const e = toRtError(bug)
    expect([e.code, e.message, e.cause]).toEqual(['INTERNAL', 'Internal server error', bug])
  })

  it('validates through Standard Schema, synchronously when the schema is sync', () => {
    const r = validate(z.object({ a: z.number() }), { a: 'x' })
    expect(r).not.toBeInstanceOf(Promise)
    expect(r).toEqual({ ok: false, issues: [{ message: expect.any(String), path: ['a'] }] })
    expect(validate(z.string().transform((s) => s.length), 'abc')).toEqual({ ok: true, value: 3 })
  })
})
