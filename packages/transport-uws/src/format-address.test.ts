import { describe, expect, it } from 'vitest'
import { formatAddress } from './format-address.js'

const bytes = (...b: number[]) => new Uint8Array(b).buffer

describe('formatAddress', () => {
  it('formats addresses as Node does', () => {
    expect(formatAddress(bytes(127, 0, 0, 1))).toBe('127.0.0.1')
    expect(formatAddress(bytes(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 1, 2, 3))).toBe('::ffff:10.1.2.3')
    expect(formatAddress(bytes(...Array(15).fill(0), 1))).toBe('::1')
    expect(formatAddress(bytes(...Array(16).fill(0)))).toBe('::')
    expect(formatAddress(bytes(0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1))).toBe('2001:db8:0:1::1')
    expect(formatAddress(bytes(0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6))).toBe('2001:db8:1:2:3:4:5:6')
    expect(formatAddress(new ArrayBuffer(0))).toBe('')
  })
})
