import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { depthWithin } from './depth.js'

/** The nesting depth, measured the slow and obvious way. */
function depthOf(v: unknown): number {
  if (v === null || typeof v !== 'object') return 0
  const children = Array.isArray(v) ? v : Object.values(v as object)
  return 1 + Math.max(0, ...children.map(depthOf))
}

describe('depthWithin', () => {
  it('agrees with the nesting depth of any JSON value (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 8 }), fc.integer({ min: 0, max: 10 }), (v, max) => {
        expect(depthWithin(v, max)).toBe(depthOf(v) <= max)
      }),
    )
  })

  it('answers for 100 000-deep values without overflowing the stack', () => {
    const deep = JSON.parse(`${'['.repeat(100_000)}${']'.repeat(100_000)}`) as unknown
    expect(depthWithin(deep, 128)).toBe(false)
    expect(depthWithin(JSON.parse(`{"a":${'['.repeat(128)}${']'.repeat(128)}}`), 129)).toBe(true)
    // A `__proto__` key of decoded input is a plain key, walked like any other.
    expect(depthWithin(JSON.parse('{"__proto__":{"a":1}}'), 2)).toBe(true)
    expect(depthWithin(JSON.parse('{"__proto__":{"a":[1]}}'), 2)).toBe(false)
  })
})
