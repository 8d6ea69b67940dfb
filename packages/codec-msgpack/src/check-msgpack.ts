/** Deepest nesting of arrays and maps a frame may have; deeper is refused before msgpackr reads it. */
export const MAX_DEPTH = 512

/** The MessagePack timestamp extension (type -1), the one extension a frame may carry. */
const TIMESTAMP = 0xff

// Per open container: values still to read (a map counts keys and values), and for a map whether
// the next is a key (1) or a value (2); 0 for an array. Reused: decoding is synchronous.
const left = new Float64Array(MAX_DEPTH + 1)
const keyNext = new Uint8Array(MAX_DEPTH + 1)

const truncated = (): never => {
  throw new RangeError('MessagePack: truncated')
}

// Types a map key may have: fixint, fixstr, uint/int 8-64, str 8-32, negative fixint.
const isKeyType = (t: number) => t <= 0x7f || (t >= 0xa0 && t <= 0xbf) || (t >= 0xcc && t <= 0xd3) || (t >= 0xd9 && t <= 0xdb) || t >= 0xe0

/**
 * Checks that `b` holds exactly one value of standard MessagePack, within `MAX_DEPTH`: no
 * extension but the timestamp, no never-used byte (0xc1), map keys strings or integers, every
 * declared length within the bytes left. Returns whether a timestamp was seen, or throws. One
 * pass without allocation, so msgpackr later reads only what a MessagePack library of any
 * language writes (no records, bundles, references or classes), and no declared length it could
 * allocate for before running out of bytes (every element takes a byte at least).
 */
export function checkMessagePack(b: Uint8Array): boolean {
  const end = b.byteLength
  let p = 0
  let dates = false
  let depth = 0
  do {
    if (p >= end) truncated()
    const t = b[p++]!
    if (depth > 0 && keyNext[depth - 1] === 1 && !isKeyType(t)) throw new TypeError('MessagePack: a map key must be a string or an integer')
    // Elements of a container this byte opens: -1 for a scalar.
    let count = -1
    let map = false
    if (t <= 0x7f || t >= 0xe0 || t === 0xc0 || t === 0xc2 || t === 0xc3) {
      // fixint, nil, booleans
    } else if (t <= 0x8f) {
      count = (t & 0x0f) * 2
      map = true
    } else if (t <= 0x9f) {
      count = t & 0x0f
    } else if (t <= 0xbf) {
      p += t & 0x1f
    } else {
      switch (t) {
        case 0xc4:
        case 0xd9:
          if (p + 1 > end) truncated()
          p += 1 + b[p]!
          break
        case 0xc5:
        case 0xda:
          if (p + 2 > end) truncated()
          p += 2 + ((b[p]! << 8) | b[p + 1]!)
          break
        case 0xc6:
        case 0xdb:
          if (p + 4 > end) truncated()
          p += 4 + (b[p]! * 0x1000000 + ((b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!))
          break
        case 0xcc:
        case 0xd0:
          p += 1
          break
        case 0xcd:
        case 0xd1:
          p += 2
          break
        case 0xca:
        case 0xce:
        case 0xd2:
          p += 4
          break
        case 0xcb:
        case 0xcf:
        case 0xd3:
          p += 8
          break
        case 0xdc:
        case 0xde:
          if (p + 2 > end) truncated()
          count = (b[p]! << 8) | b[p + 1]!
          p += 2
          if (t === 0xde) ((count *= 2), (map = true))
          break
        case 0xdd:
        case 0xdf:
          if (p + 4 > end) truncated()
          count = b[p]! * 0x1000000 + ((b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!)
          p += 4
          if (t === 0xdf) ((count *= 2), (map = true))
          break
        case 0xd6: // fixext 4: the 32-bit timestamp
        case 0xd7: // fixext 8: the 64-bit timestamp
          if (p < end && b[p] !== TIMESTAMP) throw new TypeError('MessagePack: extensions other than the timestamp are not accepted')
          p += t === 0xd6 ? 5 : 9
          dates = true
          break
        case 0xc7: // ext 8: the 96-bit timestamp only
          if (p + 2 > end) truncated()
          if (b[p] !== 12 || b[p + 1] !== TIMESTAMP) throw new TypeError('MessagePack: extensions other than the timestamp are not accepted')
          p += 14
          dates = true
          break
        default:
          // 0xc1 (never used), fixext 1/2/16, ext 16/32: not what a frame carries.
          throw new TypeError(`MessagePack: byte 0x${t.toString(16)} is not accepted`)
      }
    }
    if (p > end) truncated()
    if (count > 0) {
      if (count > end - p) truncated()
      if (depth === MAX_DEPTH) throw new RangeError(`MessagePack: nested deeper than ${MAX_DEPTH}`)
      left[depth] = count
      keyNext[depth] = map ? 1 : 0
      depth++
      continue
    }
    // One value done: close every container it completes.
    while (depth > 0) {
      const i = depth - 1
      if (keyNext[i] !== 0) keyNext[i] = keyNext[i] === 1 ? 2 : 1
      if (--left[i]! > 0) break
      depth--
    }
  } while (depth > 0)
  if (p !== end) throw new RangeError('MessagePack: bytes after the value')
  return dates
}
