import { pack } from 'msgpackr'
import { describe, expect, it } from 'vitest'
import { MAX_DEPTH, checkMessagePack } from './check-msgpack.js'

const bytes = (...b: number[]) => new Uint8Array(b)

describe('checkMessagePack', () => {
  it('accepts every standard type, nested, and tells whether a timestamp was seen', () => {
    const value = { s: 'x'.repeat(300), i: [0, -1, 127, 128, -129, 70_000, -70_000, 2 ** 40, -(2 ** 40)], f: [1.5, 0.1], b: [true, false, null], bin: new Uint8Array(70_000), m: { k: [[{}], []] } }
    expect(checkMessagePack(pack(value))).toBe(false)
    expect(checkMessagePack(pack({ at: new Date() }))).toBe(true)
    expect(checkMessagePack(pack({ at: new Date(1) }))).toBe(true) // 64-bit timestamp
    expect(checkMessagePack(pack({ at: new Date(-1) }))).toBe(true) // 96-bit timestamp
    expect(checkMessagePack(bytes(0x82, 0x01, 0xc0, 0xa1, 0x61, 0x90))).toBe(false) // integer keys
  })

  it('refuses truncation, trailing bytes, lying lengths, non-scalar keys, extensions and nesting over the limit', () => {
    const refused = [
      bytes(),
      bytes(0x92, 0x01),
      bytes(0xc0, 0xc0),
      bytes(0xdd, 0xff, 0xff, 0xff, 0xff),
      bytes(0xdb, 0x00, 0x00, 0x10, 0x00),
      bytes(0x81, 0x80, 0x01),
      bytes(0x81, 0xc3, 0x01),
      bytes(0xd4, 0x00, 0x00),
      bytes(0xd6, 0x01, 0, 0, 0, 0),
      bytes(0xc7, 0x01, 0xff, 0),
      bytes(0xc1),
    ]
    for (const b of refused) expect(() => checkMessagePack(b), `${[...b]}`).toThrow(Error)
    const over = new Uint8Array(MAX_DEPTH + 2).fill(0x91)
    over[MAX_DEPTH + 1] = 0xc0
    expect(() => checkMessagePack(over)).toThrow(/nested deeper/)
    const atLimit = new Uint8Array(MAX_DEPTH + 1).fill(0x91)
    atLimit[MAX_DEPTH] = 0xc0
    expect(checkMessagePack(atLimit)).toBe(false)
  })
})
