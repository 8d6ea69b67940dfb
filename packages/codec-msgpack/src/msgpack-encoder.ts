import type { Encoder } from '@rt/contract'
import { Packr, Unpackr, type Options } from 'msgpackr'
import { checkMessagePack } from './check-msgpack.js'

// Standard MessagePack only, as any library of any language reads and writes it: no records,
// no string bundles, no structured clone, no extensions but the timestamp (a Date).
const packr = new Packr({
  useRecords: false,
  moreTypes: false,
  structuredClone: false,
  bundleStrings: false,
  // As JSON: an undefined field is left out, an undefined array element is nil (null).
  encodeUndefinedAsNil: true,
  skipValues: [undefined],
  // As JSON: an invalid Date is null (a valid one is a timestamp, read back as its ISO string).
  onInvalidDate: () => null,
} as Options & { skipValues: unknown[] })
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number', structuredClone: false, moreTypes: false })

/** Replaces every Date of a decoded value with what JSON would carry: its ISO string (null if invalid). */
function datesAsJson(v: unknown): unknown {
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v.toISOString()
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = datesAsJson(v[i])
  } else if (typeof v === 'object' && v !== null && !(v instanceof Uint8Array)) {
    const o = v as Record<string, unknown>
    for (const k of Object.keys(o)) o[k] = datesAsJson(o[k])
  }
  return v
}

/**
 * MessagePack binary frames (over msgpackr), announced as the WebSocket subprotocol
 * `rt.msgpack`. Decoding checks the bytes first (see `checkMessagePack`): untrusted input
 * throws an ordinary error, which the caller answers as a malformed frame.
 */
export const msgpackEncoder: Encoder = {
  name: 'msgpack',
  binary: true,
  encode: (frame) => packr.pack(frame),
  decode(data) {
    if (typeof data === 'string') throw new TypeError('MessagePack frames are binary')
    const dates = checkMessagePack(data)
    const v: unknown = unpackr.unpack(data)
    return dates ? datesAsJson(v) : v
  },
}
