import { jsonEncoder, type WireFrame } from '@rt/contract'
import { pack, unpack } from 'msgpackr'
import { describe, expect, it } from 'vitest'
import { msgpackEncoder } from './msgpack-encoder.js'

const frames: WireFrame[] = [
  { t: 'event', n: 'message', d: { room: 'lobby', text: 'héllo ☃ 🎉', from: 'ann', n: -3, f: 1.5, ok: true, none: null } },
  { t: 'result', id: 7, d: { items: [1, 2, 3], nested: { deep: [[{}]] } } },
  { t: 'call', id: 1, p: 'echo', d: { text: 'x' }, tc: { traceparent: '00-abc-def-01' } },
  { t: 'welcome', v: 1, conn: 'n.1', node: 'n', hb: 25_000, mf: 1_048_576 },
]

describe('msgpackEncoder', () => {
  it('is binary, named msgpack, and round-trips every kind of frame', () => {
    expect([msgpackEncoder.name, msgpackEncoder.binary]).toEqual(['msgpack', true])
    for (const f of frames) {
      const bytes = msgpackEncoder.encode(f)
      expect(bytes).toBeInstanceOf(Uint8Array)
      expect(msgpackEncoder.decode(bytes)).toEqual(f)
    }
  })

  it('writes standard MessagePack: a plain MessagePack library reads it, and it reads that library', () => {
    for (const f of frames) {
      expect(unpack(msgpackEncoder.encode(f) as Uint8Array)).toEqual(f)
      expect(msgpackEncoder.decode(pack(f))).toEqual(f)
    }
    // A map, not a msgpackr record: 0x8n (fixmap) or 0xde/0xdf, never an extension byte.
    const first = (msgpackEncoder.encode(frames[0]!) as Uint8Array)[0]!
    expect(first >= 0x80 && first <= 0x8f).toBe(true)
  })

  it('sees what JSON would give: undefined fields left out, undefined elements null, Dates as ISO strings, int64 as numbers', () => {
    const d = { a: undefined, b: [1, undefined], when: new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 678)), bad: new Date(NaN), big: 2n ** 40n }
    const got = msgpackEncoder.decode(msgpackEncoder.encode({ t: 'event', n: 'x', d } as WireFrame)) as { d: unknown }
    const json = jsonEncoder.decode(JSON.stringify({ t: 'event', n: 'x', d: { ...d, big: 2 ** 40 } })) as { d: unknown }
    expect(got.d).toEqual(json.d)
    expect(got.d).toEqual({ b: [1, null], when: '2026-01-02T03:04:05.678Z', bad: null, big: 2 ** 40 })
  })

  it('carries bytes as bin and gives them back as a Uint8Array (JSON has no bytes)', () => {
    const got = msgpackEncoder.decode(msgpackEncoder.encode({ t: 'event', n: 'x', d: { b: new Uint8Array([0, 1, 255]) } })) as { d: { b: Uint8Array } }
    expect(got.d.b).toBeInstanceOf(Uint8Array)
    expect([...got.d.b]).toEqual([0, 1, 255])
  })

  it('throws an ordinary error on a text frame, bad bytes and trailing bytes', () => {
    expect(() => msgpackEncoder.decode('{"t":"ping"}')).toThrow(TypeError)
    expect(() => msgpackEncoder.decode(new Uint8Array([0xc1]))).toThrow(Error)
    expect(() => msgpackEncoder.decode(new Uint8Array([0x80, 0x80]))).toThrow(/bytes after the value/)
  })
})
